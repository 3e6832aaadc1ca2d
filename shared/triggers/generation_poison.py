"""Queue trigger on the worker's poison queue: a job whose message the host gave up on ends `failed`."""

from __future__ import annotations

import logging

import azure.functions as func
from pydantic import ValidationError

from shared.app_context import get_context
from shared.models.messages import JobMessage, parse_queue_message
from shared.telemetry.jobs import POISONED, job_span

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%JOBS_QUEUE%-poison", connection="AzureWebJobsStorage")
async def generation_poison(msg: func.QueueMessage) -> None:
    from shared.jobs.worker import fail_poisoned  # with the first message, as generation_worker imports it

    try:
        message = parse_queue_message(msg.get_body(), JobMessage)
    except ValidationError:
        # A message that is not ours cannot name a job; keep nothing, fail nothing (raising would only
        # move it to a poison queue of the poison queue, which nobody reads).
        logger.error("Poison message %s is not a job message; dropped: %r", msg.id, msg.get_body()[:200])
        return
    ctx = get_context()
    with job_span(POISONED, message, message.job_id, kind="consumer"):
        await fail_poisoned(ctx, message)
