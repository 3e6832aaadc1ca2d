"""Canceling a job: a queued job ends `canceled` at once; a running one ends `canceled` and the worker,
which re-reads the job before it stores images and writes its result only if the job is still running
(an etag-guarded write), stores nothing for it."""

from __future__ import annotations

import logging

from shared.app_context import AppContext
from shared.errors import ApiError, not_found
from shared.ids import is_job_id
from shared.jobs.terminal import job_ended
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument, JobStatus

logger = logging.getLogger(__name__)


async def mark_canceled(ctx: AppContext, tenant_id: str, job_id: str) -> tuple[JobDocument | None, bool]:
    """End the job `canceled` unless it already ended. Returns the stored job and whether this call
    canceled it."""
    canceled = False

    def cancel(doc: JobDocument) -> bool:
        nonlocal canceled
        if doc.status.is_terminal:
            return False
        now = utc_now()
        doc.status = JobStatus.CANCELED
        doc.canceled_at = now
        doc.completed_at = now
        canceled = True
        return True

    job = await ctx.jobs.update(tenant_id, job_id, cancel)
    if canceled and job is not None:
        logger.info("Job %s canceled", job_id)
        await job_ended(ctx, job)
    return job, canceled


async def cancel_job(ctx: AppContext, tenant_id: str, job_id: str) -> JobDocument:
    """`POST .../{id}/cancel`: the canceled job; a finished job is a 409."""
    job = await ctx.jobs.get(tenant_id, job_id) if is_job_id(job_id) else None
    if job is None or job.deleted_at is not None:
        raise not_found(f"Job {job_id!r}")
    job, canceled = await mark_canceled(ctx, tenant_id, job_id)
    if job is None:
        raise not_found(f"Job {job_id!r}")
    if not canceled:
        raise ApiError(
            409,
            ErrorCode.JOB_NOT_CANCELABLE,
            f"Job {job_id!r} already ended {job.status}; only queued or running jobs can be canceled.",
            details={"status": job.status.value},
        )
    return job
