"""Queue trigger on the worker's poison queue: a job whose message the host gave up on ends `failed`."""

from __future__ import annotations

import logging

import azure.functions as func
from pydantic import ValidationError

from shared.app_context import get_context
from shared.jobs.worker import fail_poisoned
from shared.models.messages import JobMessage

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%JOBS_QUEUE%-poison", connection="AzureWebJobsStorage")
async def generation_poison(msg: func.QueueMessage) -> None:
    try:
        message = JobMessage.model_validate_json(msg.get_body())
    except ValidationError:
        # A message that is not ours cannot name a job; keep nothing, fail nothing.
        logger.error("Poison message %s is not a job message; dropped", msg.id)
        return
    await fail_poisoned(get_context(), message)
