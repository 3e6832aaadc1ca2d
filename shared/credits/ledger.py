"""Reserving a job's credits at submit and settling them when it ends.

- `reserve_credits` holds the cost once the job is stored, before it is queued (402 when the balance is
  short; the submit then removes the job). Holding twice is a no-op, so a job queued again after a crash
  reserves again safely.
- `settle_credits` runs after every terminal write: a succeeded job's reservation is charged, a failed
  or canceled job's is refunded. The reservation is removed in the same write, so settling twice (a
  replay, a crash and a retry, the sweeper after a worker) changes nothing the second time.
- `reconcile_reservations` (the sweeper) settles reservations whose job ended without settling (a crash
  between the two writes) or whose job no longer exists.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from shared.app_context import AppContext
from shared.errors import ApiError
from shared.models.common import utc_now
from shared.models.credits import CreditAccount, Reservation, UsageView
from shared.models.errors import ErrorCode
from shared.models.jobs import GenerationSpec, JobDocument, JobStatus
from shared.settings import Settings
from shared.telemetry.jobs import credits_settled

logger = logging.getLogger(__name__)

# A reservation whose job is gone this long after it was made has nothing left to settle it.
ORPHANED_RESERVATION_AGE = timedelta(minutes=10)
# How long a settled job is remembered: longer than any job can be queued again (JOB_DEADLINE_MINUTES).
SETTLED_MEMORY = timedelta(hours=2)


def job_cost(settings: Settings, spec: GenerationSpec) -> int:
    """cost(resolution) x number of images, from CREDIT_COSTS."""
    per_image = settings.credit_costs.get(spec.resolution, settings.credit_costs.get("standard", 1))
    return per_image * spec.n


async def reserve_credits(ctx: AppContext, tenant_id: str, job_id: str, amount: int) -> None:
    """Hold `amount` for the job, or raise 402 INSUFFICIENT_CREDITS and change nothing."""
    short: CreditAccount | None = None

    def reserve(account: CreditAccount) -> bool:
        nonlocal short
        short = None  # decided again on every try
        if job_id in account.reservations or job_id in account.settled:
            return False  # already held (a replay), or the job already ended and was settled
        if account.balance - account.reserved < amount:
            short = account
            return False
        account.reservations[job_id] = Reservation(amount=amount, reserved_at=utc_now())
        account.reserved += amount
        return True

    await ctx.credits.change(tenant_id, reserve)
    if short is not None:
        available = short.balance - short.reserved
        raise ApiError(
            402,
            ErrorCode.INSUFFICIENT_CREDITS,
            f"This job costs {amount} credit(s); {available} available.",
            details={"required": amount, "available": available},
        )
    logger.info("Job %s: %d credit(s) reserved for tenant %s", job_id, amount, tenant_id)


async def settle_credits(ctx: AppContext, job: JobDocument) -> None:
    """Charge a succeeded job's reservation, refund a failed or canceled one's; idempotent."""
    if job.status == JobStatus.SUCCEEDED:
        await _settle(ctx, job.tenant_id, job.id, charge=True)
    elif job.status in (JobStatus.FAILED, JobStatus.CANCELED):
        await _settle(ctx, job.tenant_id, job.id, charge=False)


async def reconcile_reservations(ctx: AppContext) -> int:
    """Settle reservations left behind by a crash; returns how many were settled."""
    settled = 0
    now = utc_now()
    async for account in ctx.credits.with_reservations():
        for job_id, reservation in list(account.reservations.items()):
            job = await ctx.jobs.get(account.tenant_id, job_id)
            if job is not None and job.status.is_terminal:
                await settle_credits(ctx, job)
            elif job is None and now - reservation.reserved_at > ORPHANED_RESERVATION_AGE:
                await _settle(ctx, account.tenant_id, job_id, charge=False)
            else:
                continue
            settled += 1
            logger.warning("Job %s: reservation settled by the sweep", job_id)
    return settled


async def _settle(ctx: AppContext, tenant_id: str, job_id: str, *, charge: bool) -> None:
    amount = 0

    def settle(account: CreditAccount) -> bool:
        nonlocal amount
        amount = 0  # decided again on every try: a concurrent write may have settled it meanwhile
        reservation = account.reservations.pop(job_id, None)
        if reservation is None:
            return False  # never reserved, or settled already
        now = utc_now()
        account.settled = {
            settled_id: at for settled_id, at in account.settled.items() if now - at < SETTLED_MEMORY
        }
        account.settled[job_id] = now
        amount = reservation.amount
        account.reserved -= amount
        if charge:
            account.balance -= amount
            account.spent += amount
        return True

    await ctx.credits.change(tenant_id, settle)
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
        open_reservations=len(account.reservations),
    )
