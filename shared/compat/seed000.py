"""Seed 000 (`POST /api/image`) on the native core: the documented images + prompt become a native edit
job with reference images, the route waits for it like the native sync mode, and the finished job
becomes the documented `{imageBase64, imageUrl, text}`; the seed's metadata document is read back from
the job (docs/compat.md, seed 000).
"""

from __future__ import annotations

import logging

from shared.app_context import AppContext
from shared.compat.seed000_models import GenerationMetadata, ImageEditRequest, ImageEditResponse
from shared.errors import ApiError, not_found, renamed_fields, validation_error
from shared.http.handler import validate_body
from shared.jobs import service
from shared.jobs.references import SubmitPolicy, split_reference_field
from shared.jobs.waiting import wait_for_terminal
from shared.library.links import permanent_url
from shared.models.errors import ErrorCode
from shared.models.jobs import (
    MAX_REFERENCE_IMAGES,
    GenerationRequest,
    JobDocument,
    JobOrigin,
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
# expect of a synchronous call (docs/compat.md); anything else is a 500.
_FAILURE_STATUS: dict[str, int] = {
    ErrorCode.CONTENT_POLICY: 422,
    ErrorCode.INVALID_INPUT: 400,
    ErrorCode.NO_IMAGE: 502,
    ErrorCode.PROVIDER_UNAVAILABLE: 503,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.TIMEOUT: 504,
}


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
    fields: dict[str, object] = {"prompt": prompt, "referenceImages": references}
    if provider:
        fields["provider"] = provider
    if model:
        fields["model"] = model
    try:
        return validate_body(fields, GenerationRequest), input_urls
    except ApiError as error:
        raise in_seed_terms(error) from error


def configured_model(settings: Settings) -> tuple[str | None, str | None]:
    """SEED000_MODEL as (provider, model): `provider/model`, a model of the default provider, or unset."""
    value = (settings.seed000_model or "").strip()
    if not value:
        return None, None
    provider, slash, model = value.partition("/")
    return (provider, model) if slash else (None, value)


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
    ctx: AppContext,
    tenant_id: str,
    subject: str,
    body: ImageEditRequest,
    *,
    api_base_url: str,
) -> JobDocument:
    """Submit the native job and wait up to SEED000_WAIT_SECONDS: the job as it then stands."""
    request, input_urls = generation_request(ctx.settings, body)
    _check_configured_model(ctx, request)
    origin = JobOrigin(route=ROUTE_FAMILY, subject=subject, input_urls=input_urls)
    try:
        job = await service.submit_generation(
            ctx,
            tenant_id,
            request,
            api_base_url=api_base_url,
            origin=origin,
            policy=submit_policy(ctx.settings),
        )
    except ApiError as error:
        raise in_seed_terms(error) from error
    job = await wait_for_terminal(ctx, job, ctx.settings.seed000_wait_seconds)
    if not job.status.is_terminal:
        logger.info("Job %s still %s after the seed 000 wait; answering 202", job.id, job.status.value)
    return job


async def edit_response(ctx: AppContext, job: JobDocument) -> ImageEditResponse:
    """The documented answer for an ended job; ApiError for a job that failed or was canceled."""
    if job.status is not JobStatus.SUCCEEDED:
        raise failure_error(job)
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


def failure_error(job: JobDocument) -> ApiError:
    """The error a failed or canceled job answers with (status per failure code, see _FAILURE_STATUS)."""
    if job.status is JobStatus.CANCELED:
        return ApiError(409, ErrorCode.CANCELED, "The generation was canceled.")
    if job.error is None:
        return ApiError(500, ErrorCode.PROCESSING_FAILED, "The generation failed.")
    return ApiError(_FAILURE_STATUS.get(job.error.code, 500), job.error.code, job.error.message)


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
        user_id=origin.subject,
        prompt=job.spec.prompt,
        input_images=inputs,
        output_image_url=output_url,
        created_at=job.created_at,
    )


def in_seed_terms(error: ApiError) -> ApiError:
    """A native 400 names the seed's field: `referenceImages[i]` (and its `url` or `b64`) is the caller's
    `images[i]`."""
    if error.status != 400:
        return error
    return renamed_fields(error, seed_field)


def seed_field(native: str) -> str:
    reference = split_reference_field(native)
    return native if reference is None else f"images[{reference[0]}]"
