"""Processing one queued job: provider call, image upload, result; and ending jobs that cannot finish.

Every path ends the job in a terminal state or puts it back on the queue with a delay. Unexpected
exceptions (storage or database down) propagate so the host retries the message and, after
`maxDequeueCount` attempts, moves it to the poison queue, whose trigger ends the job `failed`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from shared.app_context import AppContext
from shared.images.convert import convert_image
from shared.images.inspect import UnsupportedImageError, inspect_image
from shared.images.store import image_blob_name
from shared.jobs.backoff import retry_delay_seconds
from shared.jobs.generation import generate_for_job
from shared.jobs.terminal import job_ended
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument, JobError, JobStatus, StoredImage
from shared.models.messages import JobMessage
from shared.providers.base import ProviderError, ProviderResult
from shared.webhooks.notify import notify_webhook

logger = logging.getLogger(__name__)


async def process_job(ctx: AppContext, message: JobMessage) -> None:
    job = await _start(ctx, message)
    if job is None:
        return
    if job.attempts == 1:
        await notify_webhook(ctx, job, "running")
    try:
        generated = await generate_for_job(ctx, job)
    except ProviderError as error:
        await _after_provider_error(ctx, job, message, error)
        return
    if await _ended_meanwhile(ctx, job):
        return
    result = generated.result
    try:
        outputs = await _store_images(ctx, job, result)
    except UnsupportedImageError as error:
        await end_job(ctx, job, ErrorCode.NO_IMAGE, f"The provider returned an unusable image: {error}")
        return
    await _succeed(ctx, job, result, outputs, served_by=generated.served_by)


async def _start(ctx: AppContext, message: JobMessage) -> JobDocument | None:
    """Mark the job running; None when there is nothing to do (unknown or already finished job)."""
    proceed = False

    def mark_running(job: JobDocument) -> bool:
        nonlocal proceed
        proceed = not job.status.is_terminal
        if not proceed:
            return False
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or utc_now()
        return True

    job = await ctx.jobs.update(message.tenant_id, message.job_id, mark_running)
    if job is None:
        logger.warning(
            "Job %s of tenant %s does not exist; message dropped", message.job_id, message.tenant_id
        )
        return None
    if not proceed:
        logger.info("Job %s is already %s; redelivered message ignored", job.id, job.status)
        return None
    return job


async def _ended_meanwhile(ctx: AppContext, job: JobDocument) -> bool:
    """True when the job was canceled (or removed) while the provider worked: store nothing for it."""
    current = await ctx.jobs.get(job.tenant_id, job.id)
    if current is not None and not current.status.is_terminal:
        return False
    logger.info("Job %s is %s; its images are not stored", job.id, current.status if current else "gone")
    return True


async def _after_provider_error(
    ctx: AppContext, job: JobDocument, message: JobMessage, error: ProviderError
) -> None:
    settings = ctx.settings
    if not error.transient:
        logger.warning("Job %s: provider refused (%s): %s", job.id, error.code, error.message)
        await end_job(ctx, job, error.code, error.message)
        return
    if job.attempts >= settings.provider_max_attempts:
        logger.warning("Job %s: provider still unavailable after %d attempts", job.id, job.attempts)
        await end_job(
            ctx, job, ErrorCode.PROVIDER_UNAVAILABLE, f"{error.message} (after {job.attempts} attempts)"
        )
        return
    delay = retry_delay_seconds(
        job.attempts,
        base=settings.retry_base_seconds,
        cap=settings.retry_max_seconds,
        retry_after=error.retry_after,
    )
    # Queue the retry before recording it: a crash in between leaves a duplicate message (harmless,
    # the job is processed once), never a job without a message.
    await ctx.job_queue.enqueue(message, delay_seconds=delay)

    def mark_retrying(doc: JobDocument) -> bool:
        if doc.status.is_terminal:
            return False
        doc.status = JobStatus.QUEUED
        doc.retry_count += 1
        doc.last_error = JobError(code=error.code, message=error.message)
        return True

    await ctx.jobs.update(job.tenant_id, job.id, mark_retrying)
    logger.info("Job %s: transient provider failure, retry in %ds: %s", job.id, delay, error.message)


async def _store_images(ctx: AppContext, job: JobDocument, result: ProviderResult) -> list[StoredImage]:
    container = ctx.settings.images_container
    stored: list[StoredImage] = []
    for index, image in enumerate(result.images):
        data = await asyncio.to_thread(
            convert_image, image.data, job.spec.output_format, job.spec.output_compression
        )
        info = await asyncio.to_thread(inspect_image, data)
        blob_name = image_blob_name(
            job.tenant_id, job.created_at, job.id, index, info.extension, job.spec.blob_naming
        )
        await ctx.images.upload(
            container,
            blob_name,
            data,
            content_type=info.mime_type,
            metadata={
                "jobId": job.id,
                "tenantId": job.tenant_id,
                "provider": job.spec.provider,
                "model": job.spec.model,
                "imageIndex": str(index),
            },
        )
        stored.append(
            StoredImage(
                index=index,
                container=container,
                blob_name=blob_name,
                mime_type=info.mime_type,
                width=info.width,
                height=info.height,
                bytes=info.bytes,
            )
        )
    return stored


async def _succeed(
    ctx: AppContext,
    job: JobDocument,
    result: ProviderResult,
    outputs: list[StoredImage],
    *,
    served_by: str | None = None,
) -> None:
    applied = False

    def mark_succeeded(doc: JobDocument) -> bool:
        nonlocal applied
        if doc.status.is_terminal:
            return False
        applied = True
        now = utc_now()
        doc.status = JobStatus.SUCCEEDED
        doc.outputs = outputs
        doc.completed_at = now
        doc.processing_time_ms = _elapsed_ms(doc.started_at or doc.created_at, now)
        doc.provider_text = result.text
        doc.revised_prompt = result.revised_prompt
        doc.size = result.size
        doc.usage = result.usage
        doc.warnings = [*doc.warnings, *result.warnings]
        doc.served_by = served_by
        doc.error = None
        return True

    stored = await ctx.jobs.update(job.tenant_id, job.id, mark_succeeded)
    if not applied:
        # Canceled or deleted between the upload and this write: the images belong to no job.
        logger.info("Job %s ended elsewhere during upload; removing its %d image(s)", job.id, len(outputs))
        for image in outputs:
            await ctx.images.delete(image.container, image.blob_name)
        return
    logger.info(
        "Job %s ended %s with %d image(s)", job.id, stored.status if stored else "missing", len(outputs)
    )
    if stored is not None:
        await job_ended(ctx, stored)


async def end_job(ctx: AppContext, job: JobDocument, code: str, message: str) -> bool:
    """End a job `failed` unless it already ended; True when this call ended it."""
    ended = False

    def mark_failed(doc: JobDocument) -> bool:
        nonlocal ended
        if doc.status.is_terminal:
            return False
        ended = True
        now = utc_now()
        doc.status = JobStatus.FAILED
        doc.error = JobError(code=code, message=message)
        doc.completed_at = now
        if doc.started_at:
            doc.processing_time_ms = _elapsed_ms(doc.started_at, now)
        return True

    stored = await ctx.jobs.update(job.tenant_id, job.id, mark_failed)
    if stored is not None:
        await job_ended(ctx, stored, ended_now=ended)
    return ended


async def fail_poisoned(ctx: AppContext, message: JobMessage) -> None:
    """A message the host gave up on: its job ends `failed`, carrying the last error it saw."""
    job = await ctx.jobs.get(message.tenant_id, message.job_id)
    if job is None or job.status.is_terminal:
        return
    last = f" Last error: {job.last_error.message}" if job.last_error else ""
    logger.error("Job %s: message moved to the poison queue; ending the job failed", job.id)
    await end_job(ctx, job, ErrorCode.PROCESSING_FAILED, f"The job could not be processed.{last}")


async def fail_stale_jobs(ctx: AppContext, *, now: datetime | None = None) -> int:
    """End jobs stuck queued or running (a lost message, a crashed host) past the configured age."""
    cutoff = (now or utc_now()) - timedelta(minutes=ctx.settings.stale_job_minutes)
    ended = 0
    async for job in ctx.jobs.stale((JobStatus.QUEUED, JobStatus.RUNNING), cutoff):
        message = f"The job made no progress for {ctx.settings.stale_job_minutes} minutes."
        if await end_job(ctx, job, ErrorCode.TIMEOUT, message):
            ended += 1
            logger.warning("Job %s ended failed: stale since %s", job.id, job.updated_at)
    return ended


def _elapsed_ms(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() * 1000))
