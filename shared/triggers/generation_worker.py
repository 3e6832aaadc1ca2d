"""Queue trigger: one job id per message; calls the provider and stores the result."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.models.messages import JobMessage, parse_queue_message
from shared.telemetry.jobs import job_delivery

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%JOBS_QUEUE%", connection="AzureWebJobsStorage")
async def generation_worker(msg: func.QueueMessage) -> None:
    # Imported with the first message: Flex Consumption scales the HTTP functions on instances of their
    # own, which never need the worker's modules.
    from shared.jobs.worker import process_job

    # Not a job message: raising lets the host retry it and move it to the poison queue.
    message = parse_queue_message(msg.get_body(), JobMessage)
    ctx = get_context()  # first: the first invocation turns telemetry on
    with job_delivery(message, delivery=msg.dequeue_count or 1):
        logger.info("Job %s: message %s, delivery %s", message.job_id, msg.id, msg.dequeue_count)
        await process_job(ctx, message)
