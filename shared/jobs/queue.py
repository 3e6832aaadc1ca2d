"""Putting job ids on the Storage Queue the worker is triggered by."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from shared.models.common import utc_now
from shared.models.messages import JobMessage, QueueReason

if TYPE_CHECKING:
    from azure.storage.queue.aio import QueueClient

# Storage caps a message's visibility delay at 7 days.
MAX_DELAY_SECONDS = 7 * 24 * 3600


class JobQueue:
    def __init__(self, client: QueueClient) -> None:
        self._client = client

    async def enqueue(
        self, message: JobMessage, *, delay_seconds: int = 0, reason: QueueReason | None = None
    ) -> None:
        """Send the message; with a delay it stays invisible that long (a back-off without a sleeping
        worker). The message is stamped with when it is sent, when it becomes due and why (`reason`)."""
        delay = max(0, min(delay_seconds, MAX_DELAY_SECONDS))
        now = utc_now()
        stamped = message.model_copy(
            update={"queued_at": now, "due_at": now + timedelta(seconds=delay), "reason": reason}
        )
        await self._client.send_message(
            stamped.model_dump_json(exclude_none=True), visibility_timeout=delay or None
        )
