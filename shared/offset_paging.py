"""Offset/limit windows over a continuation-token paged query.

The Cosmos DB emulator has no usable OFFSET/LIMIT, so a document that promises `offset` paging is served
by walking the query's pages with the SDK's continuation tokens, skipping the first `offset` items.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Fetch one page: (page size, continuation token or None) -> (items, next token or None on the last page).
PageFetcher = Callable[[int, str | None], Awaitable[tuple[list[T], str | None]]]

WALK_PAGE_SIZE = 100


async def offset_window[T](
    fetch: PageFetcher[T], *, offset: int, limit: int, page_size: int = WALK_PAGE_SIZE
) -> list[T]:
    """Items `offset` .. `offset + limit - 1` of the query (fewer at its end)."""
    if offset < 0 or limit < 1:
        raise ValueError("offset must be >= 0 and limit >= 1")
    window: list[T] = []
    to_skip = offset
    token: str | None = None
    while True:
        items, token = await fetch(page_size, token)
        if to_skip >= len(items):
            to_skip -= len(items)
        else:
            window.extend(items[to_skip : to_skip + limit - len(window)])
            to_skip = 0
        if len(window) >= limit or token is None:
            return window
