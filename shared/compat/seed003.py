"""Seed 003 (`POST /api/v1/agents/images`) on the native core: one synchronous image per call.

The documented request is checked by the seed's rules in the seed's order, becomes a native
`GenerationRequest` (n=1, output blobs named `images/{orgId}/{yyyy-mm-dd}/{uuid}.{ext}`), is submitted
and waited for with the compat kit (`kit.submit_and_wait`); the finished job becomes the documented
`{data, metadata}` answer. Every failure, native or the job's own, is an `ApiError` carrying the seed's
status and code (see `seed_error`), rendered by the route in the seed's envelope.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from pydantic import ValidationError

from shared.app_context import AppContext
from shared.compat import kit
from shared.errors import ApiError
from shared.http.auth import Principal
from shared.http.endpoint import ErrorShape
from shared.images.sniff import MIME_PNG, NotAnImageError, sniff_image
from shared.jobs import service
from shared.models.errors import ErrorCode
from shared.models.jobs import GenerationRequest, JobDocument, JobStatus, ResponseFormat
from shared.providers.catalog import ProviderName

from .seed003_models import (
    AgentErrorBody,
    AgentErrorResponse,
    AgentImage,
    AgentImageRequest,
    AgentImageResponse,
    AgentImageUsage,
    ImageSource,
    ResponseMetadata,
    SeedError,
    check_request_shape,
)

ROUTE_FAMILY = "seed003"

INVALID_INPUT = ErrorCode.INVALID_INPUT
VALIDATION_ERROR = ErrorCode.VALIDATION_ERROR
SERVICE_UNAVAILABLE = ErrorCode.SERVICE_UNAVAILABLE
SYSTEM_ERROR = "SYSTEM_ERROR"  # the seed's own: no native code says "something of ours broke"

# Native HTTP answers (status, code) -> the seed's (status, code). A native 400 is refined by its field
# (`seed_error`): reference and mask problems are the seed's VALIDATION_ERROR, the rest INVALID_INPUT.
_NATIVE_ANSWERS: dict[int, tuple[int, str]] = {
    400: (400, INVALID_INPUT),
    401: (401, ErrorCode.UNAUTHORIZED),
    403: (403, ErrorCode.FORBIDDEN),
    404: (400, INVALID_INPUT),
    409: (400, INVALID_INPUT),
    413: (400, INVALID_INPUT),
    415: (400, INVALID_INPUT),
    422: (400, INVALID_INPUT),
    # The seed has no quota of its own: being throttled (by our limits or the provider's) is its 503.
    429: (503, SERVICE_UNAVAILABLE),
    # No credits left: the organisation may not generate for now.
    402: (403, ErrorCode.FORBIDDEN),
    503: (503, SERVICE_UNAVAILABLE),
}

# A job that ended without its image, by its error code (kept as `details.reason`).
FAILURES = kit.FailureMap(
    by_code={
        ErrorCode.CONTENT_POLICY: kit.Failure(400, INVALID_INPUT),
        ErrorCode.INVALID_INPUT: kit.Failure(400, INVALID_INPUT),
        ErrorCode.PROVIDER_UNAVAILABLE: kit.Failure(503, SERVICE_UNAVAILABLE),
        ErrorCode.PROVIDER_ERROR: kit.Failure(503, SERVICE_UNAVAILABLE),
        ErrorCode.SERVICE_UNAVAILABLE: kit.Failure(503, SERVICE_UNAVAILABLE),
        ErrorCode.NO_IMAGE: kit.Failure(503, SERVICE_UNAVAILABLE),
        ErrorCode.TIMEOUT: kit.Failure(504, ErrorCode.TIMEOUT),
    },
    otherwise=kit.Failure(500, SYSTEM_ERROR),
    unexplained="The job ended {status}.",
    details=lambda job, code: {"jobId": job.id, "reason": code},
    error_type=SeedError,
)

_REQUEST_FIELDS = frozenset(
    {"provider", "model", "prompt", "size", "quality", "style", "negativePrompt", "referenceImage", "mask"}
)
_SOURCE_FIELDS = frozenset({"url", "b64", "mimeType"})


def parse_request(body: bytes) -> AgentImageRequest:
    """The body as the seed's request; anything but a JSON object is 400 INVALID_INPUT."""
    try:
        return AgentImageRequest.model_validate_json(body or b"")
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        message = "The request body is not valid JSON." if first["type"] == "json_invalid" else first["msg"]
        raise SeedError(400, INVALID_INPUT, message, details={"field": field}) from exc


def check_request(ctx: AppContext, request: AgentImageRequest) -> None:
    """The seed's rules in its order (structure, then the mask's bytes), then what it leaves unsaid:
    unknown fields, an unconfigured provider. The reference URL rule and the reference bytes follow in
    the native submit, which fetches and sniffs them."""
    check_request_shape(request)
    if request.mask is not None:
        _check_mask_source(request.mask)
    _check_known_fields(request)
    catalog = ctx.providers.catalog
    if not catalog.configured().get(str(request.provider)):
        raise SeedError(
            503,
            SERVICE_UNAVAILABLE,
            catalog.not_configured_message(ProviderName(request.provider)),
            details={"field": "provider"},
        )


def _check_mask_source(mask: ImageSource) -> None:
    """Mask rules the seed puts before the URL allowlist: a PNG, alpha-aware. A mask given by URL is
    sniffed once fetched (native submit); its dimensions are compared with the reference there too."""
    if mask.mime_type is not None and mask.mime_type != MIME_PNG:
        raise _mask_problem("The mask must be a PNG (mimeType image/png).")
    if not isinstance(mask.b64, str):
        return
    try:
        payload = mask.b64.partition(",")[2] if mask.b64.startswith("data:") else mask.b64
        image = sniff_image(base64.b64decode("".join(payload.split()), validate=True))
    except (binascii.Error, ValueError, NotAnImageError) as exc:
        raise _mask_problem("The mask is not a real PNG image.") from exc
    if image.mime_type != MIME_PNG:
        raise _mask_problem("The mask must be a PNG.")
    if not image.has_alpha:
        raise _mask_problem(
            "The mask must be a PNG with an alpha channel (alpha = 0 marks the editable region)."
        )


def _mask_problem(message: str) -> SeedError:
    return SeedError(400, VALIDATION_ERROR, message, details={"field": "mask"})


def _check_known_fields(request: AgentImageRequest) -> None:
    unknown = sorted(set(request.model_extra or {}) - _REQUEST_FIELDS)
    for name, source in (("referenceImage", request.reference_image), ("mask", request.mask)):
        if source is not None:
            unknown += [f"{name}.{key}" for key in sorted(set(source.model_extra or {}) - _SOURCE_FIELDS)]
    if unknown:
        raise SeedError(
            400,
            INVALID_INPUT,
            f"Unknown field {unknown[0]!r}.",
            details={"field": unknown[0], "unknown": unknown},
        )


def _source(source: ImageSource, *, with_mime: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"url": source.url} if source.url is not None else {"b64": source.b64}
    if with_mime and source.mime_type is not None:
        item["mimeType"] = source.mime_type
    return item


def to_generation_request(request: AgentImageRequest) -> GenerationRequest:
    """The native request: one image, the seed's knobs passed through for the provider to validate."""
    body: dict[str, Any] = {
        "provider": request.provider,
        "model": request.model,
        "prompt": request.prompt,
        "n": 1,
    }
    for name, value in (
        ("size", request.size),
        ("quality", request.quality),
        ("style", request.style),
        ("negativePrompt", request.negative_prompt),
    ):
        if value is not None:
            body[name] = value
    if request.reference_image is not None:
        body["referenceImages"] = [_source(request.reference_image, with_mime=True)]
    if request.mask is not None:
        body["mask"] = _source(request.mask, with_mime=False)
    try:
        return GenerationRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = _seed_field(".".join(str(part) for part in first["loc"]) or "body")
        # The seed counts mask problems as VALIDATION_ERROR; a malformed referenceImage is a bad request.
        code = VALIDATION_ERROR if field.startswith("mask") else INVALID_INPUT
        raise SeedError(
            400, code, f"Invalid request: {field}: {first['msg']}.", details={"field": field}
        ) from exc


async def generate(
    ctx: AppContext, principal: Principal, request: AgentImageRequest, *, api_base_url: str | None
) -> AgentImageResponse:
    """Submit natively, wait up to its COMPAT_WAIT_SECONDS, and answer the finished job; ApiError in the
    seed's codes for every failure."""
    job = await kit.submit_and_wait(
        ctx,
        ROUTE_FAMILY,
        principal,
        to_generation_request(request),
        translate=seed_error,
        blob_naming="uuid",
        api_base_url=api_base_url,
    )
    if not job.status.is_terminal:
        raise SeedError(
            504,
            ErrorCode.TIMEOUT,
            f"The image was not ready within {ctx.settings.compat_wait(ROUTE_FAMILY):g} s.",
            details={"jobId": job.id, "status": str(job.status)},
        )
    if job.status is not JobStatus.SUCCEEDED or not job.outputs:
        raise FAILURES.error(job)
    return AgentImageResponse(data=await _image(ctx, job), metadata=metadata(success=True))


async def _image(ctx: AppContext, job: JobDocument) -> AgentImage:
    output = job.outputs[0]
    view = await service.image_view(ctx, job, output, ResponseFormat.URL)
    usage = job.usage or {}
    return AgentImage(
        url=str(view.url),
        mime_type=output.mime_type,
        bytes=output.bytes,
        width=output.width,
        height=output.height,
        revised_prompt=job.revised_prompt,
        provider=job.spec.provider,
        model=job.spec.model,
        mode=job.spec.mode,
        usage=AgentImageUsage(
            input_tokens=usage.get("inputTokens"),
            output_tokens=usage.get("outputTokens"),
            total_tokens=usage.get("totalTokens"),
        )
        if usage
        else None,
    )


def seed_error(error: ApiError) -> ApiError:
    """An ApiError in the seed's status and code: native ones are translated (their code kept as
    `details.reason`), the adapter's own (`SeedError`) pass through."""
    if isinstance(error, SeedError):
        return error
    status, code = _NATIVE_ANSWERS.get(error.status, (500, SYSTEM_ERROR))
    details: dict[str, Any] = {"reason": error.code}
    if error.status == 400:
        error = kit.in_family_terms(error, _seed_field)  # the message names the caller's fields too
        field = _native_field(error.details)
        if field is not None:
            details["field"] = field
            if field.startswith(("referenceImage", "mask")):
                code = VALIDATION_ERROR
    return SeedError(status, code, error.message, details=details, headers=error.headers)


def _native_field(details: Any) -> str | None:
    if isinstance(details, list) and details and isinstance(details[0], dict) and "field" in details[0]:
        return str(details[0]["field"])
    return None


# A native field name as the seed's caller wrote it: `referenceImages[0].url` -> `referenceImage.url` (the
# seed sends one reference image).
_seed_field = kit.field_names(
    {"referenceImages": "referenceImage"}, reference=lambda _, rest: "referenceImage" + rest
)


def metadata(*, success: bool) -> ResponseMetadata:
    return ResponseMetadata(success=success, timestamp=int(time.time()))


# Every failure as `{error: {code, message, details}, metadata: {success: false, timestamp}}`.
render_error = kit.error_renderer(
    lambda seed: AgentErrorResponse(
        error=AgentErrorBody(code=seed.code, message=seed.message, details=seed.details),
        metadata=metadata(success=False),
    ),
    translate=seed_error,
)
ERROR_SHAPE = ErrorShape(AgentErrorResponse, render_error)
