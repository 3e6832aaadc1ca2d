"""The quota at the provider call of a run that holds the job's claim.

`QuotaGate.call` wraps each provider call of a model with a declared quota: the run waits in-process until
its slot (reserved at admission, at most HORIZON seconds ahead), takes one of the model's concurrent-call
leases if the model declares `concurrent`, and calls. A run that cannot call now (its slot passed while it
prepared and none is free again, no lease is free, or the provider refused with 429) raises
QuotaDeferral, and the worker gives the job back with `defer_for_quota`: the claim released, the attempt
not counted, the job `queued` again until its `not_before`, the message back with that delay. A 429 also
slows the model down for every instance (`QuotaStore.slow_down`).
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from shared import clock
from shared.app_context import AppContext
from shared.jobs.claims import ClaimKeeper, unclaim
from shared.jobs.ending import end_job
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument, JobError
from shared.models.messages import JobMessage, QueueReason
from shared.models.quotas import QuotaWait
from shared.scheduling.admission import quota_timeout_message
from shared.scheduling.events import REFUSED, RUN_GIVEN_BACK, TIMED_OUT, quota_event
from shared.scheduling.pace import DEFAULT_REFUSAL_PAUSE
from shared.scheduling.plan import LEAD, SLOT_GRACE, ModelQuota
from shared.scheduling.store import Lease, Slot
from shared.telemetry.jobs import quota_wait

logger = logging.getLogger(__name__)

# How long a run waits for a concurrent-call lease to free up before it comes back.
LEASE_WAIT_SECONDS = 2.0


class QuotaDeferral(Exception):
    """This run must not call the provider now; the job waits `delay_seconds` for its model's quota.
    `refused`: the provider refused a call (429) whose error the job keeps as `lastError`."""

    def __init__(self, delay_seconds: float, reason: str, *, refused: bool = False) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds
        self.reason = reason
        self.refused = refused


class QuotaGate:
    """A run's access to the quota of the models it calls: the slot admission reserved for the job's
    model, and new slots (without waiting in line) for a fallback model with a quota."""

    def __init__(self, ctx: AppContext, job: JobDocument, run_id: str, slot: Slot | None) -> None:
        self._ctx = ctx
        self._job = job
        self._run_id = run_id
        self._slot = slot

    @asynccontextmanager
    async def call(self, provider: str, model: str) -> AsyncIterator[None]:
        quota = self._ctx.quotas.quota_for(provider, model)
        if quota is None:
            yield
            return
        slot = await self._slot_for(quota)
        await clock.sleep(max(0.0, slot.at - clock.time()))
        lease: Lease | None = None
        if quota.limits.concurrent:
            seconds = self._ctx.settings.provider_timeout_seconds * 2 + 30
            lease = await self._ctx.quotas.acquire_lease(quota, self._run_id, seconds)
            if lease is None:
                await self._ctx.quotas.give_back(slot)
                raise QuotaDeferral(
                    LEASE_WAIT_SECONDS,
                    f"all {quota.limits.concurrent} concurrent calls of {quota.scope} are busy",
                )
        try:
            yield
        finally:
            if lease is not None:
                await self._ctx.quotas.release_lease(lease)

    async def refused(self, provider: str, model: str, retry_after: float | None) -> float | None:
        """A 429 from `provider/model`: slow the model down for everyone. Returns how long the job should
        wait (None when the model has no declared quota: the ordinary retry applies)."""
        quota = self._ctx.quotas.quota_for(provider, model)
        if quota is None:
            return None
        pace = await self._ctx.quotas.slow_down(quota, retry_after)
        quota_event(
            REFUSED, quota.scope, self._job.id,
            "Quota %s: the provider refused a call (Retry-After %s); pace factor now %.2f",
            quota.scope, retry_after, pace.factor, level=logging.WARNING,
            retry_after=retry_after, factor=pace.factor,
        )  # fmt: skip
        return max(retry_after or DEFAULT_REFUSAL_PAUSE, pace.blocked_until - clock.time())

    async def close(self) -> None:
        """Give back the admission slot if this run never used it (it stopped before its call)."""
        if self._slot is not None:
            slot, self._slot = self._slot, None
            try:
                await self._ctx.quotas.give_back(slot)
            except Exception:
                logger.warning("Job %s: giving back an unused quota slot failed", slot.job_id, exc_info=True)

    async def _slot_for(self, quota: ModelQuota) -> Slot:
        slot = self._slot if self._slot is not None and self._slot.scope == quota.scope else None
        if slot is not None:
            self._slot = None  # used now, whatever happens to the call
            if clock.time() <= slot.at + SLOT_GRACE:
                return slot
        # A slot that passed while the run prepared (prompt enhancement, inputs) would crowd the lane's
        # window if used now: it is exchanged for the fresh one.
        fresh = await self._ctx.quotas.fresh_slot(quota, self._job, stale=slot)
        if fresh is None:
            raise QuotaDeferral(LEAD + 1, f"no quota slot of {quota.scope} is free")
        return fresh


async def defer_for_quota(
    ctx: AppContext, job: JobDocument, message: JobMessage, keeper: ClaimKeeper, deferral: QuotaDeferral
) -> None:
    """Give the claimed job back to wait for its model's quota: not an attempt, not a failure. A job
    that has waited longer than QUOTA_MAX_WAIT_MINUTES ends `failed` with `QUOTA_TIMEOUT` instead."""
    settings = ctx.settings
    now = utc_now()
    scope = f"{job.spec.provider}/{job.spec.model}"
    if job.quota is not None and now - job.quota.since > timedelta(minutes=settings.quota_max_wait_minutes):
        text = quota_timeout_message(settings, scope, deferral.reason)
        quota_event(TIMED_OUT, scope, job.id, "Job %s: %s", job.id, text, level=logging.WARNING)
        await end_job(ctx, job, ErrorCode.QUOTA_TIMEOUT, text, guard=keeper.owned)
        return
    delay = max(1, math.ceil(deferral.delay_seconds) + random.randint(0, 1))
    # Queued before it is recorded, as a retry is: a crash in between leaves a message that finds the
    # claim and waits for it to lapse, never a job without a message.
    await ctx.job_queue.enqueue(message, delay_seconds=delay, reason=QueueReason.QUOTA)
    owned = keeper.owned
    not_before = now + timedelta(seconds=delay)

    def give_back(doc: JobDocument) -> bool:
        if not owned(doc):
            return False
        unclaim(doc, not_before=not_before)
        doc.attempts = max(0, doc.attempts - 1)
        doc.quota = doc.quota or QuotaWait(since=now)
        doc.quota.runs_given_back += 1
        if deferral.refused:
            doc.quota.refusals += 1
            doc.last_error = JobError(code=ErrorCode.PROVIDER_UNAVAILABLE, message=deferral.reason)
        return True

    update = await ctx.jobs.update(job.tenant_id, job.id, give_back)
    if update.applied:
        quota_event(
            RUN_GIVEN_BACK, scope, job.id, "Job %s: given back to wait for its quota (%s); back in %ds",
            job.id, deferral.reason, delay, refused=deferral.refused, delay_seconds=delay,
        )  # fmt: skip
        quota_wait(job, job.spec.provider, job.spec.model, delay)
