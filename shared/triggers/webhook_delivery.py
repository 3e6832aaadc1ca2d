"""Queue trigger: one webhook delivery per message, retried with back-off by re-queueing."""

from __future__ import annotations

import logging

import azure.functions as func
from pydantic import ValidationError

from shared.app_context import get_context
from shared.models.messages import parse_queue_message
from shared.models.webhooks import WebhookMessage
from shared.telemetry.jobs import WEBHOOK_DELIVERY, job_span
from shared.telemetry.tracing import SpanAttributes

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%WEBHOOKS_QUEUE%", connection="AzureWebJobsStorage")
async def webhook_delivery(msg: func.QueueMessage) -> None:
    from shared.webhooks.delivery import process_delivery  # with the first message, as the worker's

    try:
        message = parse_queue_message(msg.get_body(), WebhookMessage)
    except ValidationError:
        logger.error("Webhook message %s is not a delivery; dropped", msg.id)
        return
    ctx = get_context()
    attributes: SpanAttributes = {
        "imagegen.webhook.id": message.webhook_id,
        "imagegen.webhook.attempt": message.attempt,
    }
    with job_span(WEBHOOK_DELIVERY, message, message.job_id, attributes, kind="consumer"):
        await process_delivery(ctx, message)
