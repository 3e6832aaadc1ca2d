"""Sending one webhook delivery, signed, and scheduling its retry with back-off when it fails.

A delivery succeeds on any 2xx answer. Anything else (another status, a timeout, a refused address) is
retried by putting the message back on the queue with a visibility delay, up to WEBHOOK_MAX_ATTEMPTS;
then it is given up. Nothing here reads or writes the job.
"""

from __future__ import annotations

import logging

from shared import clock
from shared.app_context import AppContext
from shared.jobs.backoff import retry_delay_seconds
from shared.models.webhooks import WebhookMessage
from shared.net.fetcher import FetchRefused
from shared.settings import Settings
from shared.telemetry.jobs import webhook_delivery_outcome
from shared.webhooks.signing import sign
from shared.webhooks.urls import webhook_fetcher

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The receiver did not take the delivery; the message says how."""


async def deliver(settings: Settings, url: str, body: str, headers: dict[str, str]) -> int:
    """POST `body` to `url` through the SSRF-safe fetcher (vetted and pinned address, no redirects, one
    timeout for the whole exchange); the answer's status."""
    try:
        return await webhook_fetcher(settings).post(url, body.encode(), headers)
    except FetchRefused as exc:
        raise DeliveryFailed(str(exc)) from exc


async def process_delivery(ctx: AppContext, message: WebhookMessage) -> bool:
    """Send the delivery; on failure queue the next attempt. True when the receiver took it."""
    settings = ctx.settings
    secret = await ctx.webhook_secrets.get(message.tenant_id)
    timestamp = int(clock.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "image-api-webhooks/1",
        "webhook-id": message.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message.webhook_id, timestamp, message.body),
    }
    status: int | None = None
    try:
        status = await deliver(settings, message.url, message.body, headers)
        if 200 <= status < 300:
            webhook_delivery_outcome("delivered", status)
            logger.info("Job %s: webhook %s delivered (%d)", message.job_id, message.webhook_id, status)
            return True
        problem = f"answered {status}"
    except DeliveryFailed as exc:
        problem = str(exc)
    if message.attempt >= settings.webhook_max_attempts:
        webhook_delivery_outcome("given_up", status)
        logger.error(
            "Job %s: webhook %s given up after %d attempts: %s",
            message.job_id,
            message.webhook_id,
            message.attempt,
            problem,
        )
        return False
    delay = retry_delay_seconds(
        message.attempt, base=settings.webhook_retry_base_seconds, cap=settings.webhook_retry_max_seconds
    )
    await ctx.webhook_queue.enqueue(
        message.model_copy(update={"attempt": message.attempt + 1}), delay_seconds=delay
    )
    webhook_delivery_outcome("retry", status)
    logger.warning(
        "Job %s: webhook %s attempt %d failed (%s); retry in %ds",
        message.job_id,
        message.webhook_id,
        message.attempt,
        problem,
        delay,
    )
    return False
