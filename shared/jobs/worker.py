"""Processing one queued job: claim, provider call, image upload, result; and ending jobs that cannot finish.

Every delivery of a job's message either runs the job under a claim (shared/jobs/claims.py), puts the
message back with a delay (another run holds the job, its back-off has not ended, or it waits for its
model's quota: shared/scheduling), or drops it (the job ended). A run ends the job in a terminal state,
queues its retry with a delay, or gives it back to wait for the quota. Unexpected exceptions
(storage or database down) release the claim and propagate, so the host retries the message and, after
`maxDequeueCount` attempts, moves it to the poison queue, whose trigger ends the job `failed`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from shared.app_context import AppContext
from shared.images.convert import convert_image, needs_conversion
from shared.images.inspect import UnsupportedImageError, inspect_image
from shared.images.store import image_blob_name
from shared.jobs.backoff import retry_delay_seconds
from shared.jobs.claims import (
    Claimed,
    ClaimKeeper,
    ClaimLost,
    Deferred,
    Dropped,
    GiveUp,
    claim_job,
    redelivery_delay,
    release_claim,
    unclaim,
)
from shared.jobs.ending import end_job, finish_job, mark_ended, remove_unreferenced
from shared.jobs.generation import generate_for_job
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument, JobError, JobStatus, StoredImage
from shared.models.messages import JobMessage, QueueReason
from shared.providers.base import ProviderError, ProviderResult
from shared.scheduling.admission import Admitted, QuotaWaiting, admit_job
from shared.scheduling.gate import QuotaDeferral, QuotaGate, defer_for_quota
from shared.telemetry.jobs import image_upload, job_claimed, job_ended, job_not_run, job_retry_queued
from shared.webhooks.notify import notify_webhook

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Image:
    """A provider image as it will be stored: converted, inspected, named."""

    stored: StoredImage
    data: bytes


async def process_job(ctx: AppContext, message: JobMessage) -> None:
    run_id = uuid.uuid4().hex
    admission = await admit_job(ctx, message)
    match admission:
        case QuotaWaiting(delay):
            await ctx.job_queue.enqueue(message, delay_seconds=delay, reason=QueueReason.QUOTA)
            return
        case Admitted(slot):
            outcome = await claim_job(ctx, message.tenant_id, message.job_id, run_id)
        case _:
            outcome, slot = admission, None
    if slot is not None and not isinstance(outcome, Claimed):
        await ctx.quotas.give_back(slot)  # a duplicate delivery that lost the claim: its slot goes unused
    match outcome:
        case Dropped(reason):
            job_not_run("dropped", reason)
            logger.info("Job %s: message dropped, %s", message.job_id, reason)
            return
        case Deferred(delay, reason):
            job_not_run("deferred", reason)
            delay = redelivery_delay(delay)
            await ctx.job_queue.enqueue(message, delay_seconds=delay, reason=QueueReason.DEFERRED)
            logger.info("Job %s: not started, %s; message back in %ds", message.job_id, reason, delay)
            return
        case GiveUp(job, code, text):
            job_not_run("gave_up", text)
            logger.warning("Job %s: giving up: %s", job.id, text)
            await end_job(ctx, job, code, text)
            return
        case Claimed(job, stored):
            job_claimed(message, job, run_id)
    gate = QuotaGate(ctx, job, run_id, slot)
    try:
        async with ClaimKeeper(ctx, job, run_id, stored=stored) as keeper:
            await _run(ctx, job, message, keeper, gate)
    except ClaimLost as lost:
        logger.info("Job %s: run %s stopped: %s", job.id, run_id, lost)
    except BaseException:
        await release_claim(ctx, job, run_id)
        raise
    finally:
        await gate.close()


async def _run(
    ctx: AppContext, job: JobDocument, message: JobMessage, keeper: ClaimKeeper, gate: QuotaGate
) -> None:
    logger.info("Job %s: run %s, attempt %d", job.id, keeper.run_id, job.attempts)
    if job.attempts == 1 and (job.quota is None or job.quota.runs_given_back == 0):
        await notify_webhook(ctx, job, "running")
    try:
        generated = await generate_for_job(ctx, job, keeper.owned, gate)
    except QuotaDeferral as deferral:
        await defer_for_quota(ctx, job, message, keeper, deferral)
        return
    except ProviderError as error:
        await _after_provider_error(ctx, job, message, keeper, error)
        return
    keeper.check()
    result, container = generated.result, ctx.settings.images_container
    try:
        if any(needs_conversion(image.data, job.spec.output_format) for image in result.images):
            images = await asyncio.to_thread(_prepare_images, job, result, container)
        else:
            # Only image headers are read: a hop to a thread would cost more than it spares the loop.
            images = _prepare_images(job, result, container)
    except UnsupportedImageError as error:
        text = f"The provider returned an unusable image: {error}"
        await end_job(ctx, job, ErrorCode.NO_IMAGE, text, guard=keeper.owned, known=keeper.stored)
        return
    await keeper.ensure_fresh()
    for image in images:
        with image_upload(image.stored.container, image.stored.blob_name):
            await _upload(ctx, job, image)
    await _succeed(ctx, job, keeper, generated.result, images, served_by=generated.served_by)


async def _after_provider_error(
    ctx: AppContext, job: JobDocument, message: JobMessage, keeper: ClaimKeeper, error: ProviderError
) -> None:
    settings = ctx.settings
    if not error.transient:
        logger.warning("Job %s: provider refused (%s): %s", job.id, error.code, error.message)
        await end_job(ctx, job, error.code, error.message, guard=keeper.owned, known=keeper.stored)
        return
    if job.attempts >= settings.provider_max_attempts:
        logger.warning("Job %s: provider still unavailable after %d attempts", job.id, job.attempts)
        text = f"{error.message} (after {job.attempts} attempts)"
        await end_job(ctx, job, ErrorCode.PROVIDER_UNAVAILABLE, text, guard=keeper.owned, known=keeper.stored)
        return
    delay = retry_delay_seconds(
        job.attempts,
        base=settings.retry_base_seconds,
        cap=settings.retry_max_seconds,
        retry_after=error.retry_after,
    )
    # Queue the retry before recording it: a crash in between leaves a message that finds the job still
    # claimed and waits for the claim to lapse (then resumes it), never a job without a message.
    await ctx.job_queue.enqueue(message, delay_seconds=delay, reason=QueueReason.RETRY)
    owned = keeper.owned
    not_before = utc_now() + timedelta(seconds=delay)

    def mark_retrying(doc: JobDocument) -> bool:
        if not owned(doc):
            return False
        unclaim(doc, not_before=not_before)
        doc.retry_count += 1
        doc.last_error = JobError(code=error.code, message=error.message)
        return True

    update = await ctx.jobs.update(job.tenant_id, job.id, mark_retrying, known=keeper.stored)
    if update.applied:
        job_retry_queued(job, error, delay)
        logger.info("Job %s: transient provider failure, retry in %ds: %s", job.id, delay, error.message)


def _prepare_images(job: JobDocument, result: ProviderResult, container: str) -> list[_Image]:
    """Convert (to the asked format) and inspect every image: CPU work when an image is converted, which
    then runs off the event loop."""
    images: list[_Image] = []
    for index, image in enumerate(result.images):
        data = convert_image(image.data, job.spec.output_format, job.spec.output_compression)
        info = inspect_image(data)
        blob_name = image_blob_name(
            job.tenant_id, job.created_at, job.id, index, info.extension, job.blob_naming
        )
        stored = StoredImage(
            index=index,
            container=container,
            blob_name=blob_name,
            mime_type=info.mime_type,
            width=info.width,
            height=info.height,
            bytes=info.bytes,
        )
        images.append(_Image(stored=stored, data=data))
    return images


async def _upload(ctx: AppContext, job: JobDocument, image: _Image) -> None:
    await ctx.images.upload(
        image.stored.container,
        image.stored.blob_name,
        image.data,
        content_type=image.stored.mime_type,
        metadata={
            "jobId": job.id,
            "tenantId": job.tenant_id,
            "provider": job.spec.provider,
            "model": job.spec.model,
            "imageIndex": str(image.stored.index),
        },
    )


async def _succeed(
    ctx: AppContext,
    job: JobDocument,
    keeper: ClaimKeeper,
    result: ProviderResult,
    images: list[_Image],
    *,
    served_by: str,
) -> None:
    outputs = [image.stored for image in images]
    owned = keeper.owned

    def mark_succeeded(doc: JobDocument) -> bool:
        if not owned(doc):
            return False
        # Runs before this one may have stored images under other names (another format).
        mark_ended(doc, JobStatus.SUCCEEDED, earlier_runs=doc.attempts - 1)
        doc.outputs = outputs
        doc.provider_text = result.text
        doc.revised_prompt = result.revised_prompt
        doc.size = result.size
        doc.usage = result.usage
        doc.warnings = [*doc.warnings, *result.warnings]
        doc.served_by = served_by
        doc.error = None
        return True

    update = await ctx.jobs.update(job.tenant_id, job.id, mark_succeeded, known=keeper.stored)
    if not update.applied:
        # Canceled, deleted or taken over meanwhile: remove what this run uploaded, except what the
        # stored job names (a run that took over may have stored the same names).
        removed = await remove_unreferenced(ctx, update.job, [o.blob_name for o in outputs])
        logger.info(
            "Job %s: ended elsewhere during the upload; %d image(s) of this run removed", job.id, removed
        )
        return
    assert update.job is not None
    job_ended(update.job)
    logger.info("Job %s ended succeeded with %d image(s)", job.id, len(outputs))
    await finish_job(ctx, update.job)


async def fail_poisoned(ctx: AppContext, message: JobMessage) -> None:
    """A message the host gave up on: its job ends `failed`, carrying the last error it saw."""
    job = await ctx.jobs.get(message.tenant_id, message.job_id)
    if job is None or job.status.is_terminal:
        return
    last = f" Last error: {job.last_error.message}" if job.last_error else ""
    logger.error("Job %s: message moved to the poison queue; ending the job failed", job.id)
    await end_job(ctx, job, ErrorCode.PROCESSING_FAILED, f"The job could not be processed.{last}")
