"""Submitting and reading jobs: the core every route family calls."""

from __future__ import annotations

import base64
import logging

from shared.app_context import AppContext
from shared.credits.ledger import job_cost, reserve_credits
from shared.errors import ApiError, invalid_field, not_found
from shared.ids import is_job_id, new_job_id
from shared.images.thumbnails import thumbnail_url
from shared.jobs.ending import end_job
from shared.jobs.enhancement import EnhancedPrompt
from shared.jobs.idempotency import claim_idempotency_key, validate_key
from shared.jobs.recovery import discard_unqueued, may_be_unqueued, requeue
from shared.jobs.references import NATIVE_POLICY, SubmitPolicy, check_parameters, store_inputs
from shared.library.images import image_id
from shared.library.links import permanent_url
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import (
    GenerationRequest,
    GenerationSpec,
    ImageView,
    JobDocument,
    JobOrigin,
    JobStatus,
    JobView,
    ResponseFormat,
    StoredImage,
)
from shared.models.messages import JobMessage, QueueReason
from shared.presets.apply import PreparedSubmit, prepare_submit
from shared.presets.uploads import Upload, attach_reference_images
from shared.providers.catalog import ModelChoice, UnknownModelError
from shared.scheduling.admission import check_fits_quota
from shared.scheduling.positions import queue_place
from shared.telemetry.jobs import SUBMIT, job_created, job_submitted
from shared.telemetry.tracing import current_trace_context, traced
from shared.webhooks.notify import notify_webhook
from shared.webhooks.urls import check_webhook_url

logger = logging.getLogger(__name__)


def _is_server_error(error: BaseException) -> bool:
    # A refused request (4xx) is the caller's, not a failure of the service.
    return not (isinstance(error, ApiError) and error.status < 500)


@traced(SUBMIT, is_error=_is_server_error)
async def submit_generation(
    ctx: AppContext,
    tenant_id: str,
    request: GenerationRequest,
    *,
    idempotency_key: str | None = None,
    uploads: list[Upload] | None = None,
    api_base_url: str | None = None,
    origin: JobOrigin | None = None,
    policy: SubmitPolicy = NATIVE_POLICY,
    enhanced: EnhancedPrompt | None = None,
) -> JobDocument:
    """Validate against the preset (if any) and the provider catalog, store the job `queued`, and queue
    its id.

    With an `idempotency_key`, a repeat of an earlier submit (same key, same body, within 24 h) returns
    the earlier job instead of creating one. `origin` is what a compatibility route family records on
    its jobs (the output blobs' naming among it); `policy` what it allows beyond the native settings;
    `enhanced` a prompt already enhanced (the worker then draws from it rather than enhancing again)."""
    prepared = await prepare_submit(ctx.presets, tenant_id, request, uploads or [])
    request = attach_reference_images(request, prepared.reference_images)
    try:
        choice = ctx.providers.catalog.resolve(prepared.provider, prepared.model)
    except UnknownModelError as exc:
        raise invalid_field(exc.field, str(exc)) from exc
    warnings = check_parameters(ctx, choice, request, policy)
    check_fits_quota(ctx, choice.provider.value, choice.model, request.n)
    if request.webhook:
        await check_webhook_url(ctx.settings, request.webhook)
    job = _new_job(tenant_id, request, prepared, choice, warnings)
    job_created(job)
    job.credits = job_cost(ctx.settings, job.spec)
    job.api_base_url = api_base_url
    job.origin = origin
    if enhanced is not None and job.spec.auto_enhance:
        job.enhanced_prompt = enhanced.prompt
        if enhanced.warning:
            job.warnings.append(enhanced.warning)
    if idempotency_key is not None:
        idempotency_key = validate_key(idempotency_key)
        existing = await claim_idempotency_key(ctx, tenant_id, idempotency_key, request, job.id)
        if existing is not None:
            logger.info("Job %s returned again for its Idempotency-Key", existing.id)
            job_submitted(existing, replayed=True)
            await _queue_if_never_queued(ctx, existing)
            return existing
    try:
        # Reference images are fetched and checked only now, once the job is sure to be created; a
        # refusal (a 400 naming the image) leaves nothing behind.
        inputs = await store_inputs(ctx, tenant_id, job.id, job.created_at, request, policy)
        job.spec.reference_blobs = inputs.reference_blobs
        job.spec.mask_blob = inputs.mask_blob
        # The job is stored before its credits are reserved, so no reservation ever lacks its job: a
        # crash after this line leaves a job that the sweeper (or a replayed Idempotency-Key) reserves
        # for and queues.
        await ctx.jobs.create(job)
    except Exception:
        if idempotency_key is not None:
            await ctx.idempotency.release(tenant_id, idempotency_key, job.id)
        raise
    try:
        await reserve_credits(ctx, tenant_id, job.id, job.credits)
    except Exception:
        # A 402 (or the credits store failing) leaves nothing of the submit behind.
        await discard_unqueued(ctx, job)
        if idempotency_key is not None:
            await ctx.idempotency.release(tenant_id, idempotency_key, job.id)
        raise
    return await _queue(ctx, job)


def _new_job(
    tenant_id: str,
    request: GenerationRequest,
    prepared: PreparedSubmit,
    choice: ModelChoice,
    warnings: list[str],
) -> JobDocument:
    now = utc_now()
    # The submit's span: the job's trace starts here and every later span of the job continues it.
    traceparent, tracestate = current_trace_context()
    return JobDocument(
        id=new_job_id(),
        tenant_id=tenant_id,
        status=JobStatus.QUEUED,
        spec=GenerationSpec.from_request(
            request,
            prompt=prepared.prompt,
            provider=choice.provider.value,
            model=choice.model,
            aspect_ratio=prepared.aspect_ratio,
        ),
        is_public=request.is_public,
        preset_id=prepared.preset_id,
        preset_name=prepared.preset_name,
        variables=prepared.variables,
        user_prompt=request.prompt if prepared.preset_id else None,
        webhook=request.webhook,
        webhook_events=list(dict.fromkeys(request.webhook_events)) if request.webhook else [],
        created_at=now,
        updated_at=now,
        warnings=warnings,
        meta=request.meta,
        traceparent=traceparent,
        tracestate=tracestate,
    )


async def _queue(ctx: AppContext, job: JobDocument) -> JobDocument:
    try:
        await ctx.job_queue.enqueue(JobMessage.for_job(job), reason=QueueReason.SUBMIT)
    except Exception as exc:
        logger.error("Job %s could not be queued; ending it failed", job.id, exc_info=True)
        await end_job(ctx, job, ErrorCode.SERVICE_UNAVAILABLE, "The job could not be queued.")
        raise ApiError(
            503, ErrorCode.SERVICE_UNAVAILABLE, "The job queue is unavailable; try again."
        ) from exc
    job_submitted(job)
    logger.info(
        "Job %s queued for tenant %s (%s/%s, trace %s)",
        job.id,
        job.tenant_id,
        job.spec.provider,
        job.spec.model,
        job.trace_id,
    )
    await notify_webhook(ctx, job, "queued")
    return job


async def _queue_if_never_queued(ctx: AppContext, job: JobDocument) -> None:
    """A replayed submit whose job was stored but may never have been queued (the first submit died in
    between): reserve its credits if that did not happen either, and queue it. A job that was queued
    after all gets a second message, which finds it claimed or ended and changes nothing."""
    if not may_be_unqueued(job, ctx.settings, utc_now()):
        return
    logger.warning("Job %s: replayed submit finds it never started; queueing it", job.id)
    await requeue(ctx, job)


async def get_job(
    ctx: AppContext, tenant_id: str, job_id: str, *, include_deleted: bool = False
) -> JobDocument:
    job = await ctx.jobs.get(tenant_id, job_id) if is_job_id(job_id) else None
    if job is None or (job.deleted_at is not None and not include_deleted):
        raise not_found(f"Job {job_id!r}")
    return job


async def image_view(
    ctx: AppContext, job: JobDocument, image: StoredImage, response_format: ResponseFormat
) -> ImageView:
    """An output image as URL, base64 (read from the blob) or both."""
    url = b64 = None
    if response_format in (ResponseFormat.URL, ResponseFormat.BOTH):
        url = await ctx.images.read_url(image.container, image.blob_name)
    if response_format in (ResponseFormat.B64_JSON, ResponseFormat.BOTH):
        data = await ctx.images.download(image.container, image.blob_name)
        b64 = None if data is None else base64.b64encode(data).decode()
    return ImageView(
        id=image_id(job.id, image.index),
        url=url,
        permanent_url=permanent_url(ctx.settings, job, image),
        b64_json=b64,
        mime_type=image.mime_type,
        width=image.width,
        height=image.height,
        bytes=image.bytes,
        thumbnail_url=await thumbnail_url(ctx.images, image),
    )


async def job_view(
    ctx: AppContext,
    job: JobDocument,
    *,
    status_url: str,
    response_format: ResponseFormat = ResponseFormat.URL,
) -> JobView:
    outputs = [await image_view(ctx, job, image, response_format) for image in job.outputs]
    place = await queue_place(ctx, job)
    return JobView.model_validate(
        {
            **job.view_fields(),
            "outputs": outputs,
            "queue_position": place.position if place else None,
            "estimated_start_at": place.estimated_start_at if place else None,
            "status_query_get_uri": status_url,
            "terminate_post_uri": f"{status_url}/cancel",
            "purge_history_delete_uri": status_url,
        }
    )
