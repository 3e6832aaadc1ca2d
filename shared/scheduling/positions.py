"""A queued job's place in its model's line and its expected start, for the job's representation and
the status URL's Retry-After.

Read from a snapshot of the model's quota partition shared by the process's readers for a couple of
seconds, so that many clients polling many jobs cost one query per model and interval, not one per poll;
a snapshot read before the job itself last changed is not used for it (its run was placed in line after
slots the snapshot does not show).
A job that is not in the line yet (just submitted, its message not yet delivered) is placed where it
would join it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.app_context import AppContext
from shared.models.jobs import JobDocument, JobStatus
from shared.scheduling.admission import as_waiter, quota_of
from shared.scheduling.plan import estimated_starts, fair_order, is_live, line, served_recently
from shared.settings import Settings

# How old a snapshot a status read may be given.
SNAPSHOT_MAX_AGE = 2.0
# The status URL's Retry-After for a waiting job is at most this, so its caller sees a start in time.
MAX_RETRY_AFTER_SECONDS = 60


@dataclass(frozen=True)
class QueuePlace:
    position: int
    estimated_start_at: datetime


async def queue_place(ctx: AppContext, job: JobDocument) -> QueuePlace | None:
    """Where a `queued` job of a model with a quota stands; None for other jobs."""
    if job.status != JobStatus.QUEUED or not ctx.quotas.enabled:
        return None
    quota = quota_of(ctx, job)
    if quota is None:
        return None
    snapshot = await ctx.quotas.recent_snapshot(
        quota, SNAPSHOT_MAX_AGE, read_after=job.updated_at.timestamp()
    )
    now = time.time()
    if snapshot.places is None:
        # Every stored waiter's place at once: polls of many waiting jobs share the work.
        ordered = fair_order([w for w in snapshot.waiters if is_live(w, now)], served_recently(snapshot, now))
        starts = estimated_starts(snapshot, quota, ordered, now)
        snapshot.places = {
            w.job_id: (index, start) for index, (w, start) in enumerate(zip(ordered, starts, strict=True))
        }
    if job.id in snapshot.places:
        position, start = snapshot.places[job.id]
    else:  # not in the line yet: where it would join it
        me = as_waiter(job, quota, due_at=now)
        ordered = line(snapshot, me, now)
        position = ordered.index(me)
        start = estimated_starts(snapshot, quota, ordered[: position + 1], now)[-1]
    return QueuePlace(position=position, estimated_start_at=datetime.fromtimestamp(max(start, now), UTC))


def status_retry_after(settings: Settings, estimated_start_at: datetime | None) -> int:
    """Seconds a poller should wait: until the expected start of a waiting job (within bounds), else the
    usual STATUS_RETRY_AFTER_SECONDS."""
    if estimated_start_at is None:
        return settings.status_retry_after_seconds
    until = math.ceil(estimated_start_at.timestamp() - time.time())
    return max(settings.status_retry_after_seconds, min(MAX_RETRY_AFTER_SECONDS, until))
