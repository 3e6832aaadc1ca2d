"""What follows every terminal write of a job: its credits are settled and its webhook is told.

The one hook every path that ends a job calls (worker success and failure, cancel, poison, sweeper).
Both steps are safe to repeat: settling finds nothing the second time, and a webhook delivery carries a
stable `webhook-id` receivers deduplicate on.
"""

from __future__ import annotations

from shared.app_context import AppContext
from shared.credits.ledger import settle_credits
from shared.models.jobs import JobDocument
from shared.webhooks.notify import notify_webhook


async def job_ended(ctx: AppContext, job: JobDocument, *, ended_now: bool = True) -> None:
    """After `job` was stored terminal. `ended_now` is False when this path found it already ended
    (then only the settling is repeated, for a crash between the two)."""
    if not job.status.is_terminal:
        return
    await settle_credits(ctx, job)
    if ended_now:
        await notify_webhook(ctx, job, "completed")
