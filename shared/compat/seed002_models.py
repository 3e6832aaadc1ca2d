"""Seed 002 (`/v0/images/...`, `/v0/usage`): request and response shapes as documented."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from shared.ids import PRESET_ID_PATTERN
from shared.models.common import ApiModel, RequestModel, UtcDateTime
from shared.models.jobs import MAX_PROMPT_LENGTH, MAX_REFERENCE_IMAGES, AspectRatio, JobStatus, Resolution
from shared.models.library import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_SAMPLES = 10


class V0Status(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"

    @classmethod
    def from_job(cls, status: JobStatus) -> V0Status:
        return {
            JobStatus.QUEUED: cls.QUEUED,
            JobStatus.RUNNING: cls.ACTIVE,
            JobStatus.SUCCEEDED: cls.COMPLETED,
            JobStatus.FAILED: cls.FAILED,
            JobStatus.CANCELED: cls.FAILED,
        }[status]


class RefImage(RequestModel):
    mime_type: Literal["image/png", "image/jpeg", "image/webp"]
    data: str = Field(min_length=1, description="Base64 bytes (raw or a `data:` URL).")


class V0GenerationRequest(RequestModel):
    """`POST /api/v0/images/generations` (JSON body, or the same fields as multipart form fields)."""

    # Optional because a preset with a complete template needs none; checked after rendering.
    prompt: str | None = Field(
        default=None,
        max_length=MAX_PROMPT_LENGTH,
        description="Free-form prompt (at most 4000 characters, the native limit); optional with a presetId.",
    )
    negative_prompt: str | None = Field(default=None, max_length=MAX_PROMPT_LENGTH)
    preset_id: str | None = Field(default=None, pattern=PRESET_ID_PATTERN, description="A preset's id.")
    variables: dict[str, Any] = Field(default_factory=dict, description="The preset requirements' values.")
    aspect_ratio: AspectRatio | None = None
    resolution: Resolution = "standard"
    sample_count: int = Field(
        default=1,
        ge=1,
        le=MAX_SAMPLES,
        description="How many images to generate (1-10; SEED002_MAX_SAMPLES).",
    )
    model_version: str | None = Field(default=None, description="A model one of the providers offers.")
    is_public: bool = False
    ref_image_base64: list[RefImage] = Field(default_factory=list, max_length=MAX_REFERENCE_IMAGES)
    ref_image_urls: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        default_factory=list, max_length=MAX_REFERENCE_IMAGES
    )


class V0Image(ApiModel):
    id: str
    url: str | None = None
    storage_key: str | None = None
    width: int | None = None
    height: int | None = None
    # OpenAI's spelling, as the `response_format=b64_json` value suggests to clients.
    b64_json: str | None = Field(default=None, alias="b64_json")


class V0Usage(ApiModel):
    credits: int


class V0Job(ApiModel):
    """A job: the sync result, the async answer and the poll answer share this shape."""

    id: str
    status: V0Status
    created: int = Field(description="Unix seconds.")
    model: str
    data: list[V0Image] | None = None
    usage: V0Usage | None = None
    error: str | None = None


class V0JobEnvelope(ApiModel):
    data: V0Job


class V0Timeout(ApiModel):
    error: str
    job_id: str
    hint: str


class V0Error(ApiModel):
    """Seed 002 shows flat string errors (`{"error": "..."}`); codes ride along for clients that want them."""

    error: str
    code: str
    details: Any = None


class V0SubmitQuery(RequestModel):
    """Query parameters of `POST /api/v0/images/generations` (for the document; read by the handler)."""

    async_: bool = Field(
        default=False, alias="async", description="Answer at once with the queued job instead of waiting."
    )


class V0LibraryQuery(RequestModel):
    page: int = Field(default=1, ge=1, le=10_000, description="1-based page number.")
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    preset_id: str | None = None
    search: str | None = Field(default=None, min_length=1, max_length=200)


class V0LibraryImage(ApiModel):
    id: str
    url: str
    thumbnail_url: str | None = None
    width: int
    height: int
    preset_id: str | None = None
    model_version: str
    user_prompt: str
    is_public: bool
    created_at: UtcDateTime


class V0LibraryImageDetail(V0LibraryImage):
    prompt: str = Field(description="The prompt as rendered from the preset's template.")
    variables: dict[str, str] | None = None
    source_type: str | None = None


class V0LibraryPage(ApiModel):
    images: list[V0LibraryImage]
    total: int
    page: int
    limit: int


class V0LibraryPageEnvelope(ApiModel):
    data: V0LibraryPage


class V0LibraryImageEnvelope(ApiModel):
    data: V0LibraryImageDetail


class V0Credits(ApiModel):
    credits: int = Field(description="Credits a new job may spend now (balance minus reserved).")
    balance: int = Field(description="Credits owned (granted minus spent).")
    reserved: int = Field(description="Credits held by queued and running jobs.")
    spent: int = Field(description="Credits charged for succeeded jobs.")


class V0CreditsEnvelope(ApiModel):
    data: V0Credits
