"""Ending a job: its one terminal write, and what follows that write exactly once.

Every terminal mutation refuses a job that already ended, so of all the paths that may end a job (the
worker's success or failure, cancel, the poison trigger, the sweeper) exactly one write applies. Only the
path whose write applied calls `finish_job`: the credits are settled (charged on success, refunded
otherwise), the `completed` webhook is queued, and images that earlier runs of the job may have left under
other names are removed. The terminal write itself records that the last two are still to do
(`webhook_pending`, `cleanup_pending`), and `finish_job` clears them when done, so a crash in between is
finished by the
sweeper; settling is tracked by the credit reservation itself (removed in the same write that settles it).
"""

from __future__ import annotations

import logging

from shared.app_context import AppContext
from shared.credits.ledger import settle_credits
from shared.images.inspect import EXTENSION_BY_MIME
from shared.images.store import image_blob_name
from shared.jobs.repository import JobUpdate, Mutation
from shared.models.common import elapsed_ms, utc_now
from shared.models.jobs import JobDocument, JobError, JobStatus
from shared.telemetry.jobs import FINISH, job_ended
from shared.telemetry.tracing import traced
from shared.webhooks.notify import notify_webhook

logger = logging.getLogger(__name__)


def mark_ended(doc: JobDocument, status: JobStatus, *, earlier_runs: int) -> None:
    """The fields every terminal write sets. `earlier_runs` is how many runs may have uploaded images that
    the stored job will not name: all of its attempts, less the run writing this (which cleans up after
    itself)."""
    now = utc_now()
    doc.status = status
    doc.claim = None
    doc.completed_at = now
    if doc.started_at:
        doc.processing_time_ms = elapsed_ms(doc.started_at, now)
    doc.webhook_pending = bool(doc.webhook) and "completed" in doc.webhook_events
    doc.cleanup_pending = earlier_runs > 0


async def end_job(
    ctx: AppContext,
    job: JobDocument,
    code: str,
    message: str,
    *,
    guard: Mutation | None = None,
    known: JobUpdate | None = None,
) -> bool:
    """End a job `failed` unless it already ended (or, with `guard`, unless the guard refuses: a run's
    claim); True when this call ended it. `known`: the run's last write of the job, to start from."""

    def mark_failed(doc: JobDocument) -> bool:
        if doc.status.is_terminal or (guard is not None and not guard(doc)):
            return False
        # A guarded write comes from the run that holds the job: it stored nothing, its attempt is its own.
        mark_ended(doc, JobStatus.FAILED, earlier_runs=doc.attempts - (1 if guard else 0))
        doc.error = JobError(code=code, message=message)
        return True

    update = await ctx.jobs.update(job.tenant_id, job.id, mark_failed, known=known)
    if update.applied and update.job is not None:
        job_ended(update.job)
        logger.info("Job %s ended failed (%s): %s", job.id, code, message)
        await finish_job(ctx, update.job)
    return update.applied


@traced(FINISH)
async def finish_job(ctx: AppContext, job: JobDocument) -> None:
    """What follows the write that ended `job`; safe to repeat (the sweeper does, after a crash)."""
    await settle_credits(ctx, job)
    if not (job.webhook_pending or job.cleanup_pending):
        return
    webhook_done = job.webhook_pending and await notify_webhook(ctx, job, "completed")
    if job.cleanup_pending:
        removed = await remove_unreferenced(ctx, job, _possible_image_names(job))
        if removed:
            logger.info("Job %s: %d image(s) left by earlier runs removed", job.id, removed)

    def done(doc: JobDocument) -> bool:
        # A webhook that could not be queued stays pending: the sweeper tries it again.
        if not (doc.cleanup_pending or (doc.webhook_pending and webhook_done)):
            return False
        doc.cleanup_pending = False
        doc.webhook_pending = doc.webhook_pending and not webhook_done
        return True

    await ctx.jobs.update(job.tenant_id, job.id, done)


async def remove_unreferenced(ctx: AppContext, job: JobDocument | None, blob_names: list[str]) -> int:
    """Delete those of `blob_names` (in the images container) that `job` as stored does not name: a blob
    a stored job refers to is never deleted here. Returns how many existed."""
    kept = {o.blob_name for o in job.outputs} if job is not None else set()
    removed = 0
    for name in blob_names:
        if name not in kept and await ctx.images.delete(ctx.settings.images_container, name):
            removed += 1
    return removed


def _possible_image_names(job: JobDocument) -> list[str]:
    # Blob names are deterministic but for the format, so these are all the names any run could have used.
    return [
        image_blob_name(job.tenant_id, job.created_at, job.id, index, extension, job.blob_naming)
        for index in range(job.spec.n)
        for extension in EXTENSION_BY_MIME.values()
    ]
