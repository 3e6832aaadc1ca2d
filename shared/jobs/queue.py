"""Putting job ids on the Storage Queue the worker is triggered by."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.models.messages import JobMessage

if TYPE_CHECKING:
    from azure.storage.queue.aio import QueueClient


class JobQueue:
    def __init__(self, client: QueueClient) -> None:
        self._client = client

    async def enqueue(self, message: JobMessage, *, delay_seconds: int = 0) -> None:
        """Send the message; with a delay it stays invisible that long (a back-off without a sleeping
        worker). Storage caps the delay at 7 days."""
        await self._client.send_message(
            message.model_dump_json(), visibility_timeout=max(0, min(delay_seconds, 7 * 24 * 3600)) or None
        )
