"""Timer trigger: ends jobs left queued or running too long, so every job reaches a terminal state."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.credits.ledger import reconcile_reservations
from shared.jobs.worker import fail_stale_jobs

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False, use_monitor=True)
async def stale_job_sweeper(timer: func.TimerRequest) -> None:
    ended = await fail_stale_jobs(get_context())
    if ended:
        logger.warning("Stale job sweep ended %d job(s)", ended)
    settled = await reconcile_reservations(get_context())
    if settled:
        logger.warning("Stale job sweep settled %d credit reservation(s)", settled)
