"""Submitting and reading jobs: the core every route family calls."""

from __future__ import annotations

import logging
import uuid

from shared.app_context import AppContext
from shared.errors import ApiError, not_found, validation_error
from shared.jobs.references import check_parameters, store_inputs
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import (
    GenerationRequest,
    GenerationSpec,
    ImageView,
    JobDocument,
    JobError,
    JobStatus,
    JobView,
)
from shared.models.messages import JobMessage
from shared.providers.catalog import UnknownModelError

logger = logging.getLogger(__name__)


async def submit_generation(ctx: AppContext, tenant_id: str, request: GenerationRequest) -> JobDocument:
    """Validate against the provider catalog, store the job `queued`, and queue its id."""
    try:
        choice = ctx.providers.catalog.resolve(request.provider, request.model)
    except UnknownModelError as exc:
        raise validation_error(
            f"Invalid request: {exc.field}: {exc}", details=[{"field": exc.field, "message": str(exc)}]
        ) from exc
    warnings = check_parameters(ctx, choice, request)
    now = utc_now()
    job_id = str(uuid.uuid4())
    inputs = await store_inputs(ctx, tenant_id, job_id, now, request)
    job = JobDocument(
        id=job_id,
        tenant_id=tenant_id,
        status=JobStatus.QUEUED,
        spec=GenerationSpec(
            prompt=request.prompt,
            provider=choice.provider.value,
            model=choice.model,
            aspect_ratio=request.aspect_ratio,
            size=request.size,
            quality=request.quality,
            style=request.style,
            resolution=request.resolution,
            negative_prompt=request.negative_prompt,
            n=request.n,
            output_format=request.output_format,
            output_compression=request.output_compression,
            reference_blobs=inputs.reference_blobs,
            mask_blob=inputs.mask_blob,
            auto_enhance=request.auto_enhance,
            enhancement_template=request.enhancement_template,
        ),
        created_at=now,
        updated_at=now,
        warnings=warnings,
    )
    await ctx.jobs.create(job)
    try:
        await ctx.job_queue.enqueue(JobMessage(job_id=job.id, tenant_id=tenant_id))
    except Exception as exc:
        logger.error("Job %s could not be queued; ending it failed", job.id, exc_info=True)
        await _fail_unqueued(ctx, job)
        raise ApiError(
            503, ErrorCode.SERVICE_UNAVAILABLE, "The job queue is unavailable; try again."
        ) from exc
    logger.info("Job %s queued for tenant %s (%s/%s)", job.id, tenant_id, choice.provider, choice.model)
    return job


async def _fail_unqueued(ctx: AppContext, job: JobDocument) -> None:
    def mark(doc: JobDocument) -> bool:
        doc.status = JobStatus.FAILED
        doc.error = JobError(code=ErrorCode.SERVICE_UNAVAILABLE, message="The job could not be queued.")
        doc.completed_at = utc_now()
        return True

    await ctx.jobs.update(job.tenant_id, job.id, mark)


async def get_job(ctx: AppContext, tenant_id: str, job_id: str) -> JobDocument:
    job = await ctx.jobs.get(tenant_id, job_id)
    if job is None:
        raise not_found(f"Job {job_id!r}")
    return job


async def job_view(ctx: AppContext, job: JobDocument, *, status_url: str) -> JobView:
    outputs = [
        ImageView(
            id=f"{job.id}-{image.index}",
            url=await ctx.images.read_url(image.container, image.blob_name),
            mime_type=image.mime_type,
            width=image.width,
            height=image.height,
            bytes=image.bytes,
        )
        for image in job.outputs
    ]
    return JobView(
        id=job.id,
        status=job.status,
        prompt=job.enhanced_prompt or job.spec.prompt,
        original_prompt=job.spec.prompt,
        mode=job.spec.mode,
        n=job.spec.n,
        served_by=job.served_by,
        provider=job.spec.provider,
        model=job.spec.model,
        aspect_ratio=job.spec.aspect_ratio,
        created_at=job.created_at,
        updated_at=job.updated_at,
        completed_at=job.completed_at,
        outputs=outputs,
        error=job.error,
        retry_count=job.retry_count,
        processing_time_ms=job.processing_time_ms,
        revised_prompt=job.revised_prompt,
        text=job.provider_text,
        size=job.size,
        usage=job.usage,
        warnings=job.warnings,
        status_query_get_uri=status_url,
    )
