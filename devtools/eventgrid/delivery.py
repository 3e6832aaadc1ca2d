"""Delivering events to a function's Event Grid webhook the way Event Grid does: one event per request
(`maxEventsPerBatch: 1`), `aeg-*` headers, the Event Grid extension's system key in `code=`, and retries
after `retryDelaysSeconds` before giving up (where Azure would dead-letter)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlencode

import aiohttp

from devtools.eventgrid.subscriptions import Subscription

logger = logging.getLogger("eventgrid")


class Deliveries:
    def __init__(self, *, webhook_base_url: str, system_key: str, retry_delays: tuple[float, ...]) -> None:
        self._base = webhook_base_url.rstrip("/")
        self._system_key = system_key
        self._delays = (0.0, *retry_delays)
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.delivered = 0

    def send(self, subscription: Subscription, event: dict[str, Any]) -> None:
        task = asyncio.create_task(self._deliver(subscription, event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def url(self, subscription: Subscription) -> str:
        query = urlencode({"functionName": subscription.function_name, "code": self._system_key})
        return f"{self._base}/runtime/webhooks/eventgrid?{query}"

    async def _deliver(self, subscription: Subscription, event: dict[str, Any]) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        for attempt, delay in enumerate(self._delays, start=1):
            if delay:
                await asyncio.sleep(delay)
            headers = {
                "aeg-event-type": "Notification",
                "aeg-subscription-name": subscription.name.upper(),
                "aeg-delivery-count": str(attempt - 1),
                "aeg-data-version": event["dataVersion"],
                "aeg-metadata-version": event["metadataVersion"],
            }
            try:
                async with self._session.post(
                    self.url(subscription), json=[event], headers=headers
                ) as answer:
                    if answer.status < 300:
                        self.delivered += 1
                        logger.info("%s delivered to %s", event["subject"], subscription.function_name)
                        return
                    reason = f"HTTP {answer.status}"
            except aiohttp.ClientError as error:
                reason = str(error)
            logger.info("Delivery %d of %s failed (%s)", attempt, event["subject"], reason)
        logger.error(
            "%s undeliverable to %s after %d attempts (Azure would dead-letter it)",
            event["subject"],
            subscription.function_name,
            len(self._delays),
        )
