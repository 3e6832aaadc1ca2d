"""Timer trigger: puts jobs a crash left behind back on track, so every job reaches a terminal state."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.credits.ledger import reconcile_reservations
from shared.jobs.recovery import sweep_stale_jobs

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False, use_monitor=True)
async def stale_job_sweeper(timer: func.TimerRequest) -> None:
    result = await sweep_stale_jobs(get_context())
    if result.requeued or result.ended or result.finished:
        logger.warning(
            "Stale job sweep: %d queued again, %d ended, %d finished",
            result.requeued,
            result.ended,
            result.finished,
        )
    settled = await reconcile_reservations(get_context())
    if settled:
        logger.warning("Stale job sweep settled %d credit reservation(s)", settled)
