"""Putting jobs back on track after a crash: the stale-job sweep, and queueing a job that never was.

A crash never fails a job that can still run. The sweeper (a timer) queues again a job whose run died
(running, its claim lapsed) or whose message was lost (queued, untouched for STALE_JOB_MINUTES: a submit
that died between storing and queueing it), ends a job only when it has no attempts left or is past its
deadline, and finishes the end-of-job work a crash interrupted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.app_context import AppContext
from shared.credits.ledger import reserve_credits
from shared.errors import ApiError
from shared.jobs.claims import GiveUp, claim_blocker
from shared.jobs.ending import end_job, finish_job
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument, JobStatus
from shared.models.messages import JobMessage, QueueReason
from shared.settings import Settings
from shared.telemetry.jobs import SWEEP, job_span

logger = logging.getLogger(__name__)

# A stored job that has not started this long after its last write may never have been queued.
UNQUEUED_GRACE = timedelta(seconds=10)
# End-of-job work still recorded this long after the terminal write was interrupted by a crash.
PENDING_WORK_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class SweepResult:
    requeued: int = 0
    ended: int = 0
    finished: int = 0


def may_be_unqueued(job: JobDocument, settings: Settings, now: datetime) -> bool:
    """A job that was stored but shows no sign of having been queued (no run ever claimed it), and that
    may still run."""
    return (
        job.status == JobStatus.QUEUED
        and job.attempts == 0
        and job.claim is None
        and job.updated_at < now - UNQUEUED_GRACE
        and claim_blocker(job, settings, now) is None
    )


async def requeue(ctx: AppContext, job: JobDocument) -> bool:
    """Reserve the job's credits unless they are (reserving twice is a no-op) and queue its message; a
    tenant that can no longer pay ends the job `failed`. True when queued."""
    if job.credits:
        try:
            await reserve_credits(ctx, job.tenant_id, job.id, job.credits)
        except ApiError as error:
            if error.code != ErrorCode.INSUFFICIENT_CREDITS:
                raise
            await end_job(ctx, job, ErrorCode.INSUFFICIENT_CREDITS, error.message)
            return False
    await ctx.job_queue.enqueue(JobMessage.for_job(job), reason=QueueReason.RECOVERY)

    def touch(doc: JobDocument) -> bool:
        # Marks the job seen, so the next sweep (or replay) does not queue it yet again.
        return not doc.status.is_terminal

    await ctx.jobs.update(job.tenant_id, job.id, touch)
    return True


async def discard_unqueued(ctx: AppContext, job: JobDocument) -> None:
    """Remove a job its submit gave up on before queueing it (e.g. a 402), with its stored inputs."""
    for name in [*job.spec.reference_blobs, *([job.spec.mask_blob] if job.spec.mask_blob else [])]:
        await ctx.images.delete(ctx.settings.inputs_container, name)
    await ctx.jobs.delete(job.tenant_id, job.id)


async def sweep_stale_jobs(ctx: AppContext) -> SweepResult:
    settings = ctx.settings
    now = utc_now()
    requeued = ended = finished = 0
    # A live run renews its claim every third of its lifetime: a job unwritten for a whole lifetime has
    # no live run.
    claim_lifetime = timedelta(seconds=settings.job_claim_seconds)
    lost_message_age = timedelta(minutes=settings.stale_job_minutes)
    async for job in ctx.jobs.unfinished(now - claim_lifetime):
        if job.status == JobStatus.QUEUED and job.updated_at >= now - lost_message_age:
            continue  # probably just waiting its turn on the queue
        blocker = claim_blocker(job, settings, now)
        with job_span(SWEEP, job, job.id, {"imagegen.job.status": str(job.status)}):
            if isinstance(blocker, GiveUp):
                if await end_job(ctx, job, blocker.code, blocker.message):
                    ended += 1
                    logger.warning("Job %s ended failed by the sweep: %s", job.id, blocker.message)
            elif blocker is None and await requeue(ctx, job):
                requeued += 1
                logger.warning(
                    "Job %s (%s since %s) queued again by the sweep", job.id, job.status, job.updated_at
                )
    async for job in ctx.jobs.ended_with_pending_work(now - PENDING_WORK_GRACE):
        with job_span(SWEEP, job, job.id, {"imagegen.job.status": str(job.status)}):
            await finish_job(ctx, job)
        finished += 1
        logger.warning("Job %s: end-of-job work finished by the sweep", job.id)
    return SweepResult(requeued=requeued, ended=ended, finished=finished)
