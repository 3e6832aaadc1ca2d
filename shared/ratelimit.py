"""Fixed-window rate limits kept in Cosmos DB, so every instance of the app counts against one number.

One document per caller and window (`rate-limits` container, id = partition key), counted with an atomic,
conditional increment: a patch `incr` of `count` that Cosmos DB applies only while `count` is below the
limit. One round trip per request, and concurrent requests of one caller do not retry against each other
(the increment is applied on the server, not read, changed and replaced). The first request of a window
creates its document. A refused request is not counted. Each document expires (`ttl`) shortly after its
window ends.

A window found full stays full until it ends (counts only grow), so this instance refuses the caller's
further requests in that window without asking Cosmos DB again.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)

from shared import clock
from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

logger = logging.getLogger(__name__)

_EXPIRY_MARGIN_SECONDS = 300
# Windows known to be full, remembered per process: at most this many (the oldest are forgotten first).
_FULL_WINDOWS_KEPT = 10_000


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_seconds: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


def counter_id(subject: str, window_start: int) -> str:
    # Subjects come from tokens and may hold characters Cosmos ids refuse ('/', '#', '?').
    return f"{hashlib.sha256(subject.encode()).hexdigest()[:32]}-{window_start}"


class RateLimiter:
    def __init__(self, container: ContainerProxy, *, window_seconds: int) -> None:
        self._container = container
        self._window = window_seconds
        self._full: dict[tuple[str, int], int] = {}  # (document id, limit) -> window end

    async def hit(self, subject: str, limit: int) -> RateLimitState:
        """Count one request of `subject` in the current window, unless its `limit` is already reached."""
        now = clock.time()
        window_start = int(now // self._window) * self._window
        reset = max(1, math.ceil(window_start + self._window - now))
        document_id = plain_key(counter_id(subject, window_start), "rate-limit counter id")
        if (document_id, limit) in self._full:
            return RateLimitState(limit, 0, reset, allowed=False)
        while True:
            try:
                item = await self._container.patch_item(
                    document_id,
                    partition_key=document_id,
                    patch_operations=[{"op": "incr", "path": "/count", "value": 1}],
                    filter_predicate=f"FROM c WHERE c.count < {int(limit)}",
                )
            except CosmosAccessConditionFailedError:
                self._remember_full(document_id, limit, window_start + self._window)
                return RateLimitState(limit, 0, reset, allowed=False)
            except CosmosResourceNotFoundError:
                if limit < 1:
                    return RateLimitState(limit, 0, reset, allowed=False)
                try:
                    await self._container.create_item(
                        {
                            "id": document_id,
                            "subject": subject,
                            "windowStart": window_start,
                            "count": 1,
                            "ttl": self._window + _EXPIRY_MARGIN_SECONDS,
                        }
                    )
                except CosmosResourceExistsError:
                    continue  # another instance opened the window first: count on its document
                return RateLimitState(limit, max(0, limit - 1), reset, allowed=True)
            count = int(item.get("count", 0))
            return RateLimitState(limit, max(0, limit - count), reset, allowed=True)

    def _remember_full(self, document_id: str, limit: int, window_end: int) -> None:
        now = clock.time()
        if len(self._full) >= _FULL_WINDOWS_KEPT:
            self._full = {key: end for key, end in self._full.items() if end > now}
            while len(self._full) >= _FULL_WINDOWS_KEPT:
                self._full.pop(next(iter(self._full)))
        self._full[(document_id, limit)] = window_end
