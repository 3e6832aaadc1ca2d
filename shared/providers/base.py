"""The provider interface and the outcomes a provider call can have."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from shared.models.errors import ErrorCode
from shared.models.jobs import GenerationSpec


@dataclass(frozen=True)
class InputImage:
    """A reference image or mask, as stored at submit (its MIME type read from its bytes)."""

    data: bytes
    mime_type: str


@dataclass(frozen=True)
class ImageCall:
    """One job's request to a provider, already validated and defaulted: its spec as sent, the prompt
    being the one to draw from (enhanced or not) and the model the one to call (the job's, or a fallback's).
    Each provider maps the spec's knobs to its wire format."""

    spec: GenerationSpec
    references: tuple[InputImage, ...] = ()
    mask: InputImage | None = None

    @property
    def prompt(self) -> str:
        return self.spec.prompt

    @property
    def model(self) -> str:
        return self.spec.model

    def on(self, provider: str, model: str) -> ImageCall:
        """The same call to `provider/model` (a fallback)."""
        return replace(self, spec=self.spec.model_copy(update={"provider": provider, "model": model}))


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
    """A provider call that did not produce images. `transient` failures may succeed when retried;
    `rate_limited` ones are the provider's quota refusing the call (HTTP 429)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        transient: bool = False,
        retry_after: float | None = None,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = transient
        self.retry_after = retry_after
        self.rate_limited = rate_limited


def transient_error(
    message: str, retry_after: float | None = None, *, rate_limited: bool = False
) -> ProviderError:
    return ProviderError(
        ErrorCode.PROVIDER_UNAVAILABLE,
        message,
        transient=True,
        retry_after=retry_after,
        rate_limited=rate_limited,
    )


class ImageProvider(Protocol):
    name: str

    async def generate(self, call: ImageCall) -> ProviderResult:
        """All `call.spec.n` images (in parallel calls where the model returns one image per call)."""
        ...

    async def complete_text(self, instruction: str, text: str) -> str:
        """The provider's text model answering `text` under `instruction` (prompt enhancement)."""
        ...

    async def aclose(self) -> None:
        """Close the provider's SDK client."""
        ...


async def generate_in_parallel(calls: list[Coroutine[Any, Any, ProviderResult]]) -> ProviderResult:
    """Parallel single-image calls as one result. Every call is awaited before deciding, so the outcome
    does not depend on which call fails first: a refusal (a non-transient error) of any call is final for
    the whole job; otherwise a transient error (the longest Retry-After) makes the job retry."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    for outcome in errors:
        if not isinstance(outcome, ProviderError):
            raise outcome
    provider_errors = [e for e in errors if isinstance(e, ProviderError)]
    refusal = next((e for e in provider_errors if not e.transient), None)
    if refusal is not None:
        raise refusal
    if provider_errors:
        longest = max(provider_errors, key=lambda e: e.retry_after or 0.0)
        # A quota refusal of any call makes the whole attempt one (the job waits for the quota).
        longest.rate_limited = any(e.rate_limited for e in provider_errors)
        raise longest
    return merge_results([o for o in outcomes if isinstance(o, ProviderResult)])


def merge_results(results: list[ProviderResult]) -> ProviderResult:
    """Parallel single-image calls as one result: images in order, token usage summed."""
    usage: dict[str, int] | None = None
    for result in results:
        if result.usage:
            usage = usage or {}
            for key, value in result.usage.items():
                usage[key] = usage.get(key, 0) + value
    texts = [result.text for result in results if result.text]
    first = results[0]
    return ProviderResult(
        images=[image for result in results for image in result.images],
        text="\n".join(texts) or None,
        revised_prompt=first.revised_prompt,
        usage=usage,
        size=first.size,
        warnings=[warning for result in results for warning in result.warnings],
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; an HTTP date is ignored)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
