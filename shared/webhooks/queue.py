"""Putting webhook deliveries on their Storage Queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.models.webhooks import WebhookMessage

if TYPE_CHECKING:
    from azure.storage.queue.aio import QueueClient


class WebhookQueue:
    def __init__(self, client: QueueClient) -> None:
        self._client = client

    async def enqueue(self, message: WebhookMessage, *, delay_seconds: int = 0) -> None:
        await self._client.send_message(
            message.model_dump_json(), visibility_timeout=max(0, min(delay_seconds, 7 * 24 * 3600)) or None
        )
