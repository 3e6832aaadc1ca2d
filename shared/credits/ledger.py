"""Reserving a job's credits at submit and settling them when it ends.

- `reserve_credits` holds the cost once the job is stored, before it is queued (402 when the balance is
  short; the submit then removes the job). Holding twice is a no-op, so a job queued again after a crash
  reserves again safely; a job already settled is refused (it ended: it must not be charged again).
- `settle_credits` runs after every terminal write: a succeeded job's hold is charged, a failed or
  canceled job's is refunded. The hold is marked settled in the same batch, so settling twice (a replay,
  a crash and a retry, the sweeper after a worker) changes nothing the second time.
- `reconcile_reservations` (the sweeper) settles holds whose job ended without settling (a crash between
  the two writes) or whose job no longer exists.

The store (shared/credits/store.py) makes each of these one transactional batch of atomic increments,
so one tenant's concurrent submits and settlements do not serialize on its account.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from shared.app_context import AppContext
from shared.credits.store import Short
from shared.errors import ApiError
from shared.models.common import utc_now
from shared.models.credits import UsageView
from shared.models.errors import ErrorCode
from shared.models.jobs import GenerationSpec, JobDocument, JobStatus
from shared.settings import Settings
from shared.telemetry.jobs import credits_settled

logger = logging.getLogger(__name__)

# A hold whose job is gone this long after it was made has nothing left to settle it.
ORPHANED_RESERVATION_AGE = timedelta(minutes=10)


def job_cost(settings: Settings, spec: GenerationSpec) -> int:
    """cost(resolution) x number of images, from CREDIT_COSTS."""
    per_image = settings.credit_costs.get(spec.resolution, settings.credit_costs.get("standard", 1))
    return per_image * spec.n


def settled_memory(settings: Settings) -> timedelta:
    """How long a settled hold is kept: longer than any job can be queued again (its deadline, plus the
    quota wait it may have been granted)."""
    return timedelta(minutes=settings.job_deadline_minutes + settings.quota_max_wait_minutes, hours=1)


async def reserve_credits(ctx: AppContext, tenant_id: str, job_id: str, amount: int) -> None:
    """Hold `amount` for the job, or raise 402 INSUFFICIENT_CREDITS and change nothing."""
    outcome = await ctx.credits.hold(tenant_id, job_id, amount)
    if isinstance(outcome, Short):
        raise ApiError(
            402,
            ErrorCode.INSUFFICIENT_CREDITS,
            f"This job costs {amount} credit(s); {outcome.available} available.",
            details={"required": amount, "available": outcome.available},
        )
    if outcome == "reserved":
        logger.info("Job %s: %d credit(s) reserved for tenant %s", job_id, amount, tenant_id)
    elif outcome == "already settled":
        logger.warning("Job %s: already settled; its credits are not reserved again", job_id)


async def settle_credits(ctx: AppContext, job: JobDocument) -> None:
    """Charge a succeeded job's hold, refund a failed or canceled one's; idempotent."""
    # The job records what its hold reserved (`credits`), which saves reading the hold.
    if job.status == JobStatus.SUCCEEDED:
        await _settle(ctx, job.tenant_id, job.id, charge=True, amount=job.credits)
    elif job.status in (JobStatus.FAILED, JobStatus.CANCELED):
        await _settle(ctx, job.tenant_id, job.id, charge=False, amount=job.credits)


async def reconcile_reservations(ctx: AppContext) -> int:
    """Settle holds left behind by a crash; returns how many were settled."""
    settled = 0
    now = utc_now()
    async for hold in ctx.credits.open_holds():
        job = await ctx.jobs.get(hold.tenant_id, hold.job_id)
        if job is not None and job.status.is_terminal:
            await settle_credits(ctx, job)
        elif job is None and now - hold.reserved_at > ORPHANED_RESERVATION_AGE:
            await _settle(ctx, hold.tenant_id, hold.job_id, charge=False)
        else:
            continue
        settled += 1
        logger.warning("Job %s: reservation settled by the sweep", hold.job_id)
    return settled


async def _settle(
    ctx: AppContext, tenant_id: str, job_id: str, *, charge: bool, amount: int | None = None
) -> None:
    keep = int(settled_memory(ctx.settings).total_seconds())
    amount = await ctx.credits.settle(tenant_id, job_id, charge=charge, keep_seconds=keep, amount=amount)
    if amount:
        credits_settled(amount, charged=charge)
        logger.info("Job %s: %d credit(s) %s", job_id, amount, "charged" if charge else "refunded")


async def usage(ctx: AppContext, tenant_id: str) -> UsageView:
    account = await ctx.credits.get(tenant_id)
    return UsageView(
        balance=account.balance,
        reserved=account.reserved,
        available=account.balance - account.reserved,
        spent=account.spent,
        open_reservations=account.open_reservations,
    )
