"""Fixed-window rate limits kept in Cosmos DB, so every instance of the app counts against one number.

One document per caller and window (`rate-limits` container, id = partition key), incremented with an
etag-guarded replace: two instances racing on the same window both retry rather than lose a count. A
refused request is not counted. Each document expires (`ttl`) shortly after its window ends.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from azure.core import MatchConditions
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)

from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

logger = logging.getLogger(__name__)

_EXPIRY_MARGIN_SECONDS = 300


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

    async def hit(self, subject: str, limit: int) -> RateLimitState:
        """Count one request of `subject` in the current window, unless its `limit` is already reached."""
        now = time.time()
        window_start = int(now // self._window) * self._window
        reset = max(1, math.ceil(window_start + self._window - now))
        document_id = plain_key(counter_id(subject, window_start), "rate-limit counter id")
        while True:
            try:
                item = await self._container.read_item(document_id, partition_key=document_id)
            except CosmosResourceNotFoundError:
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
            if count >= limit:
                return RateLimitState(limit, 0, reset, allowed=False)
            updated = {name: value for name, value in item.items() if not name.startswith("_")}
            updated["count"] = count + 1
            try:
                await self._container.replace_item(
                    document_id, updated, etag=item["_etag"], match_condition=MatchConditions.IfNotModified
                )
            except CosmosAccessConditionFailedError:
                logger.debug("Rate-limit counter %s changed concurrently; counting again", document_id)
                continue
            return RateLimitState(limit, limit - count - 1, reset, allowed=True)
