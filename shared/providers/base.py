"""The provider interface and the outcomes a provider call can have."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from shared.models.errors import ErrorCode


@dataclass(frozen=True)
class ImageCall:
    """One call to a provider, already validated and defaulted."""

    prompt: str
    model: str
    aspect_ratio: str


@dataclass(frozen=True)
class ProviderImage:
    data: bytes
    mime_type: str | None = None


@dataclass(frozen=True)
class ProviderResult:
    images: list[ProviderImage]
    text: str | None = None
    revised_prompt: str | None = None
    usage: dict[str, int] | None = None
    size: str | None = None  # the pixel size the provider was asked for, where it maps the aspect ratio
    warnings: list[str] = field(default_factory=list)


class ProviderError(Exception):
    """A provider call that did not produce images. `transient` failures may succeed when retried."""

    def __init__(
        self, code: ErrorCode, message: str, *, transient: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = transient
        self.retry_after = retry_after


def transient_error(message: str, retry_after: float | None = None) -> ProviderError:
    return ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, message, transient=True, retry_after=retry_after)


class ImageProvider(Protocol):
    name: str

    async def generate(self, call: ImageCall) -> ProviderResult: ...


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; an HTTP date is ignored)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
