"""What the API answers, as typed, immutable objects (`raw` keeps the answer as it came)."""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value)
    if text.endswith("Z"):  # fromisoformat reads `Z` only from Python 3.11 on
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class JobError:
    code: str
    message: str


@dataclass(frozen=True)
class JobImage:
    """One output image of a job; `id` (`{jobId}-{n}`) is what `download` and references take."""

    id: str | None
    url: str | None
    mime_type: str
    width: int
    height: int
    bytes: int
    b64_json: str | None = None
    thumbnail_url: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> JobImage:
        return cls(
            id=data.get("id"),
            url=data.get("url"),
            mime_type=str(data["mimeType"]),
            width=int(data["width"]),
            height=int(data["height"]),
            bytes=int(data["bytes"]),
            b64_json=data.get("b64Json"),
            thumbnail_url=data.get("thumbnailUrl"),
        )


@dataclass(frozen=True)
class Job:
    """A generation job. `queue_position` and `estimated_start_at` are set when the service reports them;
    `retry_after` is the polling hint of the answer this object came from."""

    id: str
    status: str
    prompt: str
    provider: str
    model: str
    aspect_ratio: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    outputs: list[JobImage]
    error: JobError | None
    warnings: list[str]
    revised_prompt: str | None
    text: str | None
    served_by: str | None
    size: str | None
    n: int
    mode: str
    credits: int | None
    is_public: bool
    retry_count: int
    processing_time_ms: int | None
    status_url: str
    queue_position: int | None = None
    estimated_start_at: datetime | None = None
    retry_after: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """The job has ended (succeeded, failed or canceled)."""
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, retry_after: float | None = None) -> Job:
        error = data.get("error")
        created = _time(data["createdAt"])
        updated = _time(data["updatedAt"])
        assert created is not None and updated is not None
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            prompt=str(data["prompt"]),
            provider=str(data["provider"]),
            model=str(data["model"]),
            aspect_ratio=str(data["aspectRatio"]),
            created_at=created,
            updated_at=updated,
            completed_at=_time(data.get("completedAt")),
            outputs=[JobImage.from_api(item) for item in data.get("outputs") or []],
            error=JobError(code=str(error["code"]), message=str(error["message"])) if error else None,
            warnings=[str(w) for w in data.get("warnings") or []],
            revised_prompt=data.get("revisedPrompt"),
            text=data.get("text"),
            served_by=data.get("servedBy"),
            size=data.get("size"),
            n=int(data.get("n") or 1),
            mode=str(data.get("mode") or "generate"),
            credits=_int(data.get("credits")),
            is_public=bool(data.get("isPublic")),
            retry_count=int(data.get("retryCount") or 0),
            processing_time_ms=_int(data.get("processingTimeMs")),
            status_url=str(data["statusQueryGetUri"]),
            queue_position=_int(data.get("queuePosition")),
            estimated_start_at=_time(data.get("estimatedStartAt")),
            retry_after=retry_after,
            raw=dict(data),
        )


@dataclass(frozen=True)
class Image:
    """An image of the library (or the public gallery, where `content_url` is None)."""

    id: str
    job_id: str
    url: str
    content_url: str | None
    mime_type: str
    width: int
    height: int
    bytes: int
    prompt: str
    provider: str
    model: str
    aspect_ratio: str
    is_public: bool
    created_at: datetime
    preset_id: str | None = None
    preset_name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Image:
        created = _time(data["createdAt"])
        assert created is not None
        return cls(
            id=str(data["id"]),
            job_id=str(data["jobId"]),
            url=str(data["url"]),
            content_url=data.get("contentUrl"),
            mime_type=str(data["mimeType"]),
            width=int(data["width"]),
            height=int(data["height"]),
            bytes=int(data["bytes"]),
            prompt=str(data["prompt"]),
            provider=str(data["provider"]),
            model=str(data["model"]),
            aspect_ratio=str(data["aspectRatio"]),
            is_public=bool(data["isPublic"]),
            created_at=created,
            preset_id=data.get("presetId"),
            preset_name=data.get("presetName"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Preset:
    id: str
    name: str
    prompt_template: str
    requirements: list[dict[str, Any]]
    description: str | None
    default_provider: str | None
    default_model: str | None
    default_aspect_ratio: str | None
    created_at: datetime
    updated_at: datetime
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Preset:
        created, updated = _time(data["createdAt"]), _time(data["updatedAt"])
        assert created is not None and updated is not None
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            prompt_template=str(data["promptTemplate"]),
            requirements=[dict(r) for r in data.get("requirements") or []],
            description=data.get("description"),
            default_provider=data.get("defaultProvider"),
            default_model=data.get("defaultModel"),
            default_aspect_ratio=data.get("defaultAspectRatio"),
            created_at=created,
            updated_at=updated,
            raw=dict(data),
        )


@dataclass(frozen=True)
class Usage:
    balance: int
    reserved: int
    available: int
    spent: int
    open_reservations: int

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Usage:
        return cls(
            balance=int(data["balance"]),
            reserved=int(data["reserved"]),
            available=int(data["available"]),
            spent=int(data["spent"]),
            open_reservations=int(data["openReservations"]),
        )


@dataclass(frozen=True)
class ModelInfo:
    id: str
    family: str
    is_default: bool
    max_reference_images: int
    mask: bool
    negative_prompt: bool
    sizes: list[str]
    qualities: list[str]
    styles: list[str]


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    is_default: bool
    models: list[ModelInfo]


@dataclass(frozen=True)
class ModelCatalog:
    """`GET /v1/models`: what a request may name, and what each model can take."""

    providers: list[ProviderInfo]
    aspect_ratios: list[str]
    resolutions: list[str]
    max_images_per_job: int

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ModelCatalog:
        return cls(
            providers=[
                ProviderInfo(
                    name=str(p["name"]),
                    is_default=bool(p["isDefault"]),
                    models=[
                        ModelInfo(
                            id=str(m["id"]),
                            family=str(m["family"]),
                            is_default=bool(m["isDefault"]),
                            max_reference_images=int(m["maxReferenceImages"]),
                            mask=bool(m["mask"]),
                            negative_prompt=bool(m["negativePrompt"]),
                            sizes=list(m["sizes"]),
                            qualities=list(m["qualities"]),
                            styles=list(m["styles"]),
                        )
                        for m in p["models"]
                    ],
                )
                for p in data["providers"]
            ],
            aspect_ratios=list(data["aspectRatios"]),
            resolutions=list(data["resolutions"]),
            max_images_per_job=int(data["maxImagesPerJob"]),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; pass `next_page_token` back for the next (None on the last page)."""

    items: list[T]
    next_page_token: str | None


@dataclass(frozen=True)
class ImageInput:
    """A reference image or mask: exactly one of inline bytes (`b64`), a `url` the service fetches, or an
    earlier output's id (`output_id`, `{jobId}` or `{jobId}-{n}`)."""

    b64: str | None = None
    url: str | None = None
    output_id: str | None = None
    mime_type: str | None = None

    def __post_init__(self) -> None:
        if sum(value is not None for value in (self.b64, self.url, self.output_id)) != 1:
            raise ValueError("give exactly one of b64, url, output_id")

    @classmethod
    def from_bytes(cls, data: bytes, mime_type: str | None = None) -> ImageInput:
        return cls(b64=base64.b64encode(data).decode("ascii"), mime_type=mime_type)

    @classmethod
    def from_file(cls, path: str | Path) -> ImageInput:
        path = Path(path)
        mime_type, _ = mimetypes.guess_type(path.name)
        return cls.from_bytes(path.read_bytes(), mime_type if mime_type in _IMAGE_TYPES else None)

    @classmethod
    def of(cls, value: ImageInput | str | bytes | Path) -> ImageInput:
        """`ImageInput` as is; bytes inline; a `Path` read; a string: an http(s) URL, an existing file, or
        else an output id."""
        if isinstance(value, ImageInput):
            return value
        if isinstance(value, bytes):
            return cls.from_bytes(value)
        if isinstance(value, Path):
            return cls.from_file(value)
        if value.startswith(("https://", "http://")):
            return cls(url=value)
        if Path(value).is_file():
            return cls.from_file(value)
        return cls(output_id=value)

    def to_api(self) -> dict[str, str]:
        body = {"b64": self.b64, "url": self.url, "outputId": self.output_id, "mimeType": self.mime_type}
        return {key: value for key, value in body.items() if value is not None}


_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
