"""Admitting a delivered job to its model's quota, before any run claims it.

A job whose model has a declared quota (PROVIDER_QUOTAS) gets a slot before it is claimed: a call start
reserved on one of the model's lanes (shared/scheduling/store.py) at most HORIZON seconds ahead, which
the run that then claims the job waits for in-process and uses for its provider call. A job that gets
no slot is not claimed at all: its attempts and claim are untouched, it stays `queued`, it joins the
model's line (a waiter document: its queue position and the fair order come from the line), its
`not_before` is set to when it should come back (so a duplicate delivery waits too), and the worker puts
its message back with that delay.

Why before claiming: a wait is then never an attempt and never a claim to give back, the job's status,
`startedAt` and `running` webhook are those of the run that really calls the provider, and waiting costs
one job write. A duplicate delivery arriving while the job is claimed or backing off is turned away by
the same checks as a claim (`claim_blocker`) before it reserves anything; two deliveries arriving at the
very same moment may both reserve, but only one claims the job and the other gives its slot back at once
(`give_back`), so a job never uses two slots. A slot whose run dies before giving it back (a crash) only
keeps its lane idle for one window: capacity is never lost for longer.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.app_context import AppContext
from shared.errors import invalid_field
from shared.jobs.claims import Claimed, Deferred, Dropped, GiveUp, claim_blocker
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument
from shared.models.messages import JobMessage
from shared.models.quotas import QuotaWait, QuotaWaiter, waiter_id
from shared.scheduling.events import SLOT_RESERVED, TIMED_OUT, WAITING, quota_event
from shared.scheduling.plan import LEAD, RECHECK_SECONDS, STALE_AFTER, ModelQuota, Reserve, decide
from shared.scheduling.store import Slot
from shared.settings import Settings
from shared.telemetry.jobs import quota_wait

# Reservation races lost before a job is told to wait a moment and try again.
_RESERVE_TRIES = 3


@dataclass(frozen=True)
class Admitted:
    """Claim the job now. `slot` is the call start reserved for it (None: its model has no quota)."""

    slot: Slot | None


@dataclass(frozen=True)
class QuotaWaiting:
    """The job waits for its model's quota: its message goes back for `delay_seconds`."""

    delay_seconds: int
    position: int
    estimated_start: datetime
    scope: str


Admission = Admitted | QuotaWaiting | Deferred | Dropped | GiveUp


def job_images(job: JobDocument) -> int:
    return job.spec.n


def as_waiter(job: JobDocument, quota: ModelQuota, due_at: float) -> QuotaWaiter:
    return QuotaWaiter(
        id=waiter_id(job.id),
        scope=quota.scope,
        job_id=job.id,
        tenant_id=job.tenant_id,
        created_at=job.created_at,
        images=job_images(job),
        calls=quota.calls(job_images(job)),
        due_at=due_at,
        ttl=int(RECHECK_SECONDS + STALE_AFTER) * 4,
    )


def quota_of(ctx: AppContext, job: JobDocument) -> ModelQuota | None:
    return ctx.quotas.quota_for(job.spec.provider, job.spec.model)


def check_fits_quota(ctx: AppContext, provider: str, model: str, images: int) -> None:
    """At submit: a job larger than its model's quota can take at once would wait forever: a 400."""
    quota = ctx.quotas.quota_for(provider, model)
    largest = quota.largest_job if quota is not None else None
    if quota is not None and largest is not None and images > largest:
        message = (
            f"n={images} is more images than {quota.scope} may draw in one job under its quota "
            f"({quota.limits.describe()}): ask for at most {largest}."
        )
        raise invalid_field("n", message)


async def admit_job(ctx: AppContext, message: JobMessage) -> Admission:
    """Whether the delivered job may be claimed now (and with which slot), must wait for its model's
    quota, or cannot be claimed for the reasons a claim would be refused."""
    if not ctx.quotas.enabled:
        return Admitted(slot=None)  # nothing to schedule: the claim reads the job itself
    job = await ctx.jobs.get(message.tenant_id, message.job_id)
    if job is None:
        return Dropped("it does not exist")
    quota = quota_of(ctx, job)
    blocker = _blocker(job, ctx, utc_now())
    if blocker is not None:
        if isinstance(blocker, Dropped) and quota is not None and job.quota is not None:
            await ctx.quotas.remove_waiter(quota.scope, job.id)
        return blocker
    if quota is None:
        return Admitted(slot=None)
    me = as_waiter(job, quota, due_at=time.time())
    for _ in range(_RESERVE_TRIES):
        snapshot = await ctx.quotas.snapshot(quota)
        now = time.time()
        decision = decide(snapshot, quota, me, now)
        if not isinstance(decision, Reserve):
            return await _wait(ctx, job, quota, decision.position, decision.start)
        slot = await ctx.quotas.reserve(quota, snapshot, [lane for lane, _ in decision.choices], job)
        if slot is not None:
            if job.quota is not None:
                await ctx.quotas.remove_waiter(quota.scope, job.id)
            quota_event(
                SLOT_RESERVED, quota.scope, job.id, "Job %s: quota slot on %s lane %d in %.1fs",
                job.id, quota.scope, slot.lane, slot.at - now, lane=slot.lane, in_seconds=slot.at - now,
            )  # fmt: skip
            return Admitted(slot=slot)
    # Every free slot was taken by concurrent workers: come back in a moment, in line.
    return await _wait(ctx, job, quota, 0, time.time() + LEAD + 1)


async def _wait(
    ctx: AppContext, job: JobDocument, quota: ModelQuota, position: int, start: float
) -> Admission:
    settings = ctx.settings
    now = utc_now()
    if job.quota is not None and now - job.quota.since > timedelta(minutes=settings.quota_max_wait_minutes):
        await ctx.quotas.remove_waiter(quota.scope, job.id)
        text = quota_timeout_message(settings, quota.scope, quota.limits.describe())
        quota_event(TIMED_OUT, quota.scope, job.id, "Job %s: %s", job.id, text, level=logging.WARNING)
        return GiveUp(job, ErrorCode.QUOTA_TIMEOUT, text)
    delay = wait_seconds(start - now.timestamp())
    not_before = now + timedelta(seconds=delay)
    await ctx.quotas.save_waiter(as_waiter(job, quota, due_at=not_before.timestamp()))

    def mark_waiting(doc: JobDocument) -> bool:
        # A duplicate claimed or ended the job meanwhile: that decides, not this wait.
        if claim_blocker(doc, settings, now) is not None:
            return False
        doc.not_before = not_before
        doc.quota = doc.quota or QuotaWait(since=now)
        doc.quota.waits += 1
        return True

    update = await ctx.jobs.update(job.tenant_id, job.id, mark_waiting)
    if not update.applied:
        # Not waiting after all (claimed or ended meanwhile): out of the line; a run that gives the job
        # back for the quota puts it in again.
        await ctx.quotas.remove_waiter(quota.scope, job.id)
        if update.job is None:
            return Dropped("it does not exist")
        return _blocker(update.job, ctx, now) or Deferred(delay, "it changed meanwhile")
    estimated = datetime.fromtimestamp(start, UTC)
    quota_event(
        WAITING, quota.scope, job.id, "Job %s: waiting for the quota of %s, position %d, expected start %s "
        "(back in %ds)", job.id, quota.scope, position, estimated.isoformat(timespec="seconds"), delay,
        position=position, delay_seconds=delay,
    )  # fmt: skip
    quota_wait(job, job.spec.provider, job.spec.model, delay)
    return QuotaWaiting(delay_seconds=delay, position=position, estimated_start=estimated, scope=quota.scope)


def _blocker(job: JobDocument, ctx: AppContext, now: datetime) -> Deferred | Dropped | GiveUp | None:
    """Why no run may claim the job now (the claim's own reasons), None if one may."""
    blocker = claim_blocker(job, ctx.settings, now)
    assert not isinstance(blocker, Claimed)
    return blocker


def wait_seconds(until_slot: float) -> int:
    """The visibility delay that brings a waiting job back LEAD seconds before its expected slot (with a
    second of jitter), at least 1 s and at most RECHECK_SECONDS."""
    return max(1, min(RECHECK_SECONDS, math.floor(until_slot - LEAD) + random.randint(0, 1)))


def quota_timeout_message(settings: Settings, scope: str, detail: str) -> str:
    return (
        f"The job waited more than {settings.quota_max_wait_minutes} minutes for the quota of {scope} "
        f"({detail}) and was not started. The model is saturated: raise its quota (at the provider and in "
        "PROVIDER_QUOTAS), or submit fewer jobs at once."
    )
