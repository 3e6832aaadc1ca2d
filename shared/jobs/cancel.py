"""Canceling a job: it ends `canceled` at once. A run still working on it notices (every write of a run
is guarded by its claim on an unfinished job), stores nothing and removes what it uploaded."""

from __future__ import annotations

import logging

from shared.app_context import AppContext
from shared.errors import ApiError, not_found
from shared.ids import is_job_id
from shared.jobs.ending import finish_job, mark_ended
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument, JobStatus
from shared.telemetry.jobs import CANCEL, job_ended, job_span

logger = logging.getLogger(__name__)


async def mark_canceled(ctx: AppContext, tenant_id: str, job_id: str) -> tuple[JobDocument | None, bool]:
    """End the job `canceled` unless it already ended. Returns the stored job and whether this call
    canceled it."""

    def cancel(doc: JobDocument) -> bool:
        if doc.status.is_terminal:
            return False
        # A run still working on the job removes its own uploads; earlier (crashed) runs may have left some.
        mark_ended(doc, JobStatus.CANCELED, earlier_runs=doc.attempts)
        doc.canceled_at = doc.completed_at
        return True

    update = await ctx.jobs.update(tenant_id, job_id, cancel)
    if update.applied and update.job is not None:
        job_ended(update.job)
        logger.info("Job %s canceled", job_id)
        await finish_job(ctx, update.job)
    return update.job, update.applied


async def cancel_job(ctx: AppContext, tenant_id: str, job_id: str) -> JobDocument:
    """`POST .../{id}/cancel`: the canceled job; a finished job is a 409."""
    job = await ctx.jobs.get(tenant_id, job_id) if is_job_id(job_id) else None
    if job is None or job.deleted_at is not None:
        raise not_found(f"Job {job_id!r}")
    with job_span(CANCEL, job, job.id):
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
