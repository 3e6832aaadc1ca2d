"""Seed 000 (`POST /api/image`) on the native core: the documented images + prompt become a native edit
job with reference images, the route waits for it like the native sync mode, and the finished job
becomes the documented `{imageBase64, imageUrl, text}`; the seed's metadata document is read back from
the job (docs/compat.md, seed 000).
"""

from __future__ import annotations

import logging

from shared.app_context import AppContext
from shared.compat import kit
from shared.compat.seed000_models import GenerationMetadata, ImageEditRequest, ImageEditResponse, SimpleError
from shared.errors import ApiError, not_found, validation_error
from shared.http.auth import Principal
from shared.http.endpoint import ErrorShape
from shared.jobs import service
from shared.jobs.references import SubmitPolicy
from shared.library.links import permanent_url
from shared.models.errors import ErrorCode
from shared.models.jobs import (
    MAX_REFERENCE_IMAGES,
    GenerationRequest,
    JobDocument,
    JobStatus,
    ResponseFormat,
)
from shared.providers.catalog import UnknownModelError
from shared.settings import Settings

logger = logging.getLogger(__name__)

ROUTE_FAMILY = "seed000"

NO_IMAGES = "No images provided"
NO_PROMPT = "No prompt provided"

# What a failed job answers: the seed documents none of these, so each gets the status its clients would
# expect of a synchronous call (docs/compat.md); anything else is a 500, a canceled job a 409.
FAILURES = kit.FailureMap(
    by_code={
        ErrorCode.CONTENT_POLICY: kit.Failure(422),
        ErrorCode.INVALID_INPUT: kit.Failure(400),
        ErrorCode.NO_IMAGE: kit.Failure(502),
        ErrorCode.PROVIDER_UNAVAILABLE: kit.Failure(503),
        ErrorCode.SERVICE_UNAVAILABLE: kit.Failure(503),
        ErrorCode.TIMEOUT: kit.Failure(504),
    },
    otherwise=kit.Failure(500),
    canceled=kit.Failure(409),
)

# A native 400 names the seed's field: `referenceImages[i]` (and its `url` or `b64`) is the caller's
# `images[i]`.
seed_field = kit.field_names(reference=lambda index, _: f"images[{index}]")

# The seed's flat error body; the native code rides along in `code`.
render_error = kit.error_renderer(lambda error: SimpleError(error=error.message, code=error.code))
ERROR_SHAPE = ErrorShape(SimpleError, render_error)


def generation_request(
    settings: Settings, body: ImageEditRequest
) -> tuple[GenerationRequest, list[str | None]]:
    """The native request for `body`, and per image the URL the caller gave (None for inline bytes).

    http(s) strings are fetched by the native reference path (the SSRF-safe fetcher); anything else
    (`data:` URLs, raw base64) is decoded as inline base64."""
    if not body.images:
        raise validation_error(NO_IMAGES)
    if len(body.images) > MAX_REFERENCE_IMAGES:
        raise validation_error(
            f"Too many images: {len(body.images)}; at most {MAX_REFERENCE_IMAGES} are accepted."
        )
    prompt = (body.prompt or "").strip()
    if not prompt:
        raise validation_error(NO_PROMPT)
    references: list[dict[str, str]] = []
    input_urls: list[str | None] = []
    for index, image in enumerate(body.images):
        value = image.strip()
        if not value:
            raise validation_error(f"images[{index}] is empty: give an image URL, a data: URL or base64.")
        is_url = value.lower().startswith(("http://", "https://"))
        references.append({"url": value} if is_url else {"b64": value})
        input_urls.append(value if is_url else None)
    provider, model = configured_model(settings)
    fields = {"prompt": prompt, "referenceImages": references, "provider": provider, "model": model}
    return kit.native_request(fields, seed_field), input_urls


def configured_model(settings: Settings) -> tuple[str | None, str | None]:
    """SEED000_MODEL as (provider, model): `provider/model`, a model of the default provider, or unset."""
    value = (settings.seed000_model or "").strip()
    if not value:
        return None, None
    provider, slash, model = value.partition("/")
    return (provider or None, model or None) if slash else (None, value)


def _check_configured_model(ctx: AppContext, request: GenerationRequest) -> None:
    """The seed's callers cannot name a model: one SEED000_MODEL names that the catalog does not offer is
    the operator's to fix (503 naming the setting), not a 400 about a field the caller never sent."""
    if not ctx.settings.seed000_model:
        return
    try:
        ctx.providers.catalog.resolve(request.provider, request.model)
    except UnknownModelError as exc:
        raise ApiError(
            503,
            ErrorCode.SERVICE_UNAVAILABLE,
            f"SEED000_MODEL ({ctx.settings.seed000_model}) cannot be served: {exc}",
            details={"settings": ["SEED000_MODEL"]},
        ) from exc


def submit_policy(settings: Settings) -> SubmitPolicy:
    """The seed fetches external http(s) URLs: any public https host unless SEED000_FETCH_PUBLIC_HOSTS is
    off (then FETCH_ALLOWED_HOSTS, as natively). Every address rule of the fetcher applies either way."""
    return SubmitPolicy(fetch_public_hosts=settings.seed000_fetch_public_hosts)


async def edit_image(
    ctx: AppContext, principal: Principal, body: ImageEditRequest, *, api_base_url: str
) -> JobDocument:
    """Submit the native job and wait up to its COMPAT_WAIT_SECONDS: the job as it then stands."""
    request, input_urls = generation_request(ctx.settings, body)
    _check_configured_model(ctx, request)
    return await kit.submit_and_wait(
        ctx,
        ROUTE_FAMILY,
        principal,
        request,
        translate=in_seed_terms,
        input_urls=input_urls,
        api_base_url=api_base_url,
        policy=submit_policy(ctx.settings),
    )


async def edit_response(ctx: AppContext, job: JobDocument) -> ImageEditResponse:
    """The documented answer for an ended job; ApiError for a job that failed or was canceled."""
    if job.status is not JobStatus.SUCCEEDED:
        raise FAILURES.error(job)
    image = job.outputs[0]
    view = await service.image_view(ctx, job, image, ResponseFormat.BOTH)
    if view.url is None or view.b64_json is None:
        logger.error("Job %s succeeded but its image %s is not readable", job.id, image.blob_name)
        raise ApiError(500, ErrorCode.INTERNAL_ERROR, "The generated image is no longer stored.")
    return ImageEditResponse(
        image_base64=f"data:{image.mime_type};base64,{view.b64_json}",
        # The seed promises a permanent URL: the permanent link, where signing keys are configured.
        image_url=view.permanent_url or view.url,
        text=job.provider_text,
        id=job.id,
    )


async def generation_metadata(ctx: AppContext, tenant_id: str, job_id: str) -> GenerationMetadata:
    """The seed's metadata document of a `POST /api/image` generation, read from its native job; 404 for
    an unknown, deleted or another tenant's job, and for jobs not submitted through `POST /api/image`."""
    try:
        job = await service.get_job(ctx, tenant_id, job_id)
    except ApiError as error:
        raise not_found(f"Generation {job_id!r}") from error
    origin = job.origin
    if origin is None or origin.route != ROUTE_FAMILY:
        raise not_found(f"Generation {job_id!r}")
    inputs = [
        url or await ctx.images.read_url(ctx.settings.inputs_container, blob)
        for url, blob in zip(origin.input_urls, job.spec.reference_blobs, strict=True)
    ]
    output_url = None
    if job.status is JobStatus.SUCCEEDED and job.outputs:
        output = job.outputs[0]
        output_url = permanent_url(ctx.settings, job, output) or await ctx.images.read_url(
            output.container, output.blob_name
        )
    return GenerationMetadata(
        id=job.id,
        user_id=origin.subject or "",
        prompt=job.spec.prompt,
        input_images=inputs,
        output_image_url=output_url,
        created_at=job.created_at,
    )


def in_seed_terms(error: ApiError) -> ApiError:
    """A native 400 in the seed's field names (`seed_field`)."""
    return kit.in_family_terms(error, seed_field)
