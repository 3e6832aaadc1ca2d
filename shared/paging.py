"""Paging answers: continuation-token pages with opaque tokens, and offset windows walked over them.

Lists page by an opaque `pageToken`: the SDK's continuation token (`shared/cosmos.py`) plus a
fingerprint of the query it belongs to, so a token replayed against other filters is a 400, not a
wrong page. Documents that promise `offset`/`limit` or page numbers (seeds 001 and 002) get their window
by walking those pages from the start and skipping `offset` items: the Cosmos DB emulator has no usable
OFFSET/LIMIT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shared.cosmos import Query
from shared.errors import QUERY_PARAMETER, ApiError, invalid_field

T = TypeVar("T")

# Fetch one page: (page size, continuation token or None) -> (items, next token or None on the last page).
PageFetcher = Callable[[int, str | None], Awaitable[tuple[list[T], str | None]]]

WALK_PAGE_SIZE = 100


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def query_fingerprint(query: Query, limit: int) -> str:
    """The fingerprint of a query's pages: its partition, SQL, parameters and page size."""
    return fingerprint(query.partition_key, query.sql, query.parameters, limit)


def encode_page_token(cosmos_token: str | None, owner: str) -> str | None:
    """An opaque token: the SDK's continuation plus the fingerprint of the query it belongs to."""
    if cosmos_token is None:
        return None
    raw = json.dumps({"c": cosmos_token, "f": owner}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str | None, owner: str) -> str | None:
    """The SDK's continuation in `token`; a 400 naming `pageToken` when it is not a token of `owner`."""
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
        cosmos_token, token_owner = value["c"], value["f"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _bad_token() from exc
    if token_owner != owner or not isinstance(cosmos_token, str):
        raise _bad_token()
    return cosmos_token


def _bad_token() -> ApiError:
    return invalid_field(
        "pageToken",
        "not a token of this query; pass the nextPageToken of the same query's previous page, or leave it "
        "out for the first page",
        detail="not a token of this query",
        prefix=QUERY_PARAMETER,
    )


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
