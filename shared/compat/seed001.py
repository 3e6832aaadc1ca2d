"""Seed 001 (`/api/v1/generations`) on the native core: create, read, list and delete generations.

A generation is a native job: the documented request becomes a `GenerationRequest` (autoEnhance on by
default, as the document says), and the job becomes the documented `Generation`. The document's create
answer already shows the enhanced prompt, so this family enhances before it submits (the native API
enhances in the worker and answers at once).
"""

from __future__ import annotations

from pydantic import Field

from shared.app_context import AppContext
from shared.compat import kit
from shared.compat.seed001_models import (
    CreateGenerationRequest,
    Generation,
    GenerationList,
    GenerationStatus,
    OutputImage,
    Pagination,
    Seed001Error,
    Seed001ErrorBody,
)
from shared.errors import ApiError
from shared.http.auth import Principal
from shared.http.endpoint import ErrorShape
from shared.jobs import service
from shared.jobs.deletion import delete_job
from shared.jobs.enhancement import EnhancedPrompt, enhance_prompt
from shared.jobs.repository import JobFilter, jobs_query
from shared.library.images import image_id
from shared.models.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RequestModel
from shared.models.errors import ErrorCode
from shared.models.jobs import EnhancementOptions, GenerationRequest, JobDocument, JobStatus
from shared.paging import offset_window
from shared.providers.catalog import UnknownModelError

ROUTE_FAMILY = "seed001"

GENERATION_FAILED = "GENERATION_FAILED"
GENERATION_NOT_FOUND = "GENERATION_NOT_FOUND"

# Native codes the document names differently; every other code passes through unchanged.
_CODES = {
    ErrorCode.NOT_FOUND.value: GENERATION_NOT_FOUND,
    ErrorCode.INVALID_INPUT.value: ErrorCode.VALIDATION_ERROR.value,
}


def seed001_code(error: ApiError) -> str:
    return _CODES.get(error.code, error.code)


# `{"success": false, "error": {"code", "message", "details"}}` with the document's codes (the document
# names codes but shows no body; this follows its success/data envelope).
render_error = kit.error_renderer(
    lambda error: Seed001Error(
        error=Seed001ErrorBody(code=seed001_code(error), message=error.message, details=error.details)
    )
)
ERROR_SHAPE = ErrorShape(Seed001Error, render_error)


class GenerationListQuery(RequestModel):
    """Query parameters of `GET /api/v1/generations`."""

    status: GenerationStatus | None = Field(default=None, description="pending, processing, success, failed.")
    limit: int = Field(
        default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Results per page (max 100)."
    )
    offset: int = Field(default=0, ge=0, description="Items to skip.")
    include_deleted: bool = Field(default=False, description="Include soft-deleted generations.")


def native_request(request: CreateGenerationRequest) -> GenerationRequest:
    template = request.enhancement_options.template if request.enhancement_options else "general"
    return GenerationRequest(
        prompt=request.prompt,
        aspect_ratio=request.aspect_ratio,
        auto_enhance=request.auto_enhance,
        enhancement_options=EnhancementOptions(template=template) if request.auto_enhance else None,
        meta=request.meta,
    )


async def create_generation(
    ctx: AppContext,
    principal: Principal,
    request: CreateGenerationRequest,
    *,
    api_base_url: str | None = None,
) -> Generation:
    """Store and queue the generation. A generation that could not be started (the queue refused it; the
    job is then stored `failed`) is the document's `500 GENERATION_FAILED`."""
    native = native_request(request)
    try:
        enhanced = await _enhance_first(ctx, native)
    except ApiError as error:  # e.g. the provider it would run on is not configured
        raise _not_started(error) from error
    job = await kit.submit(
        ctx,
        ROUTE_FAMILY,
        principal,
        native,
        translate=_not_started,
        api_base_url=api_base_url,
        enhanced=enhanced,
    )
    return await generation_view(ctx, job)


def _not_started(error: ApiError) -> ApiError:
    if error.status == 503 and error.code == ErrorCode.SERVICE_UNAVAILABLE:
        return ApiError(500, GENERATION_FAILED, f"The generation could not be started: {error.message}")
    return error


async def _enhance_first(ctx: AppContext, request: GenerationRequest) -> EnhancedPrompt | None:
    """The prompt enhanced by the text model of the provider the job will run on (a failure keeps the
    original prompt, with the warning the job then carries); None without autoEnhance, or when no model is
    configured (the submit then answers why)."""
    template = request.enhancement_template
    if template is None or request.prompt is None:
        return None
    try:
        choice = ctx.providers.catalog.resolve(request.provider, request.model)
    except UnknownModelError:
        return None
    provider = ctx.providers.get(choice.provider.value)
    prompt, warning = await enhance_prompt(provider, request.prompt, template, job_id="(new seed 001 job)")
    return EnhancedPrompt(prompt=prompt, warning=warning)


async def get_generation(
    ctx: AppContext, tenant_id: str, generation_id: str, *, include_deleted: bool = False
) -> Generation:
    try:
        job = await service.get_job(ctx, tenant_id, generation_id, include_deleted=include_deleted)
    except ApiError as error:
        if error.status != 404:
            raise
        raise _not_found(generation_id) from error
    return await generation_view(ctx, job)


async def delete_generation(ctx: AppContext, tenant_id: str, generation_id: str) -> None:
    """Hard delete, as the document says: the record and its images (a running job is canceled first)."""
    try:
        await delete_job(ctx, tenant_id, generation_id, hard=True)
    except ApiError as error:
        if error.status != 404:
            raise
        raise _not_found(generation_id) from error


def _not_found(generation_id: str) -> ApiError:
    return ApiError(404, GENERATION_NOT_FOUND, f"Generation {generation_id!r} was not found.")


async def list_generations(ctx: AppContext, tenant_id: str, query: GenerationListQuery) -> GenerationList:
    """The tenant's generations, newest first, as an offset window with the filter's total."""
    # `failed` covers native `failed` and `canceled`.
    statuses = () if query.status is None else query.status.job_statuses()
    generations = jobs_query(tenant_id, JobFilter(statuses=statuses, include_deleted=query.include_deleted))

    async def fetch(size: int, token: str | None) -> tuple[list[JobDocument], str | None]:
        return await ctx.jobs.page(generations, limit=size, continuation=token)

    jobs = await offset_window(fetch, offset=query.offset, limit=query.limit)
    total = await ctx.jobs.count(generations)
    if jobs:
        # Counted after the window: a deletion in between must not make `total` smaller than what was shown.
        total = max(total, query.offset + len(jobs))
    return GenerationList(
        data=[await generation_view(ctx, job) for job in jobs],
        pagination=Pagination(
            limit=query.limit,
            offset=query.offset,
            total=total,
            has_more=query.offset + len(jobs) < total,
        ),
    )


async def generation_view(ctx: AppContext, job: JobDocument) -> Generation:
    output = await _output_image(ctx, job)
    return Generation.model_validate(
        {
            **job.view_fields(),
            "project_id": job.tenant_id,
            "status": GenerationStatus.from_job(job.status),
            "output_image_id": output.id if output else None,
            "output_image": output,
            "error_message": _error_message(job),
            "meta": job.meta or {},
        }
    )


async def _output_image(ctx: AppContext, job: JobDocument) -> OutputImage | None:
    if not job.outputs:
        return None
    image = job.outputs[0]
    return OutputImage(
        id=image_id(job.id, image.index),
        storage_url=await ctx.images.read_url(image.container, image.blob_name),
        mime_type=image.mime_type,
        width=image.width,
        height=image.height,
        file_size=image.bytes,
    )


def _error_message(job: JobDocument) -> str | None:
    if job.error is not None:
        return job.error.message
    if job.status is JobStatus.CANCELED:
        return "The generation was canceled."
    return None
