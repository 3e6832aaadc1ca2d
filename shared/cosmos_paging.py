"""One page of a Cosmos DB query with its continuation token.

The local emulator (like the service for cross-partition ORDER BY queries) has no OFFSET/LIMIT worth
using for deep pages; the SDK's continuation tokens resume a query where the last page ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

ModelT = TypeVar("ModelT", bound=BaseModel)


async def query_page[ModelT: BaseModel](
    container: ContainerProxy,
    query: str,
    parameters: list[dict[str, Any]],
    *,
    partition_key: str | None,
    limit: int,
    continuation: str | None,
    model: type[ModelT],
) -> tuple[list[ModelT], str | None]:
    """Up to `limit` items and the token of the next page (None when there is none)."""
    options: dict[str, Any] = {"max_item_count": limit}
    if partition_key is not None:
        options["partition_key"] = plain_key(partition_key, "partition key")
    pager = container.query_items(query, parameters=parameters, **options).by_page(continuation)
    items: list[ModelT] = []
    async for page in pager:
        async for item in page:
            items.append(model.model_validate(item))
        # The pager's token after the first page is where the next page starts.
        token: str | None = pager.continuation_token  # type: ignore[attr-defined]
        return items, token or None
    return items, None


async def query_count(
    container: ContainerProxy, query: str, parameters: list[dict[str, Any]], *, partition_key: str
) -> int:
    """The single number a `SELECT VALUE COUNT(1)` query returns. The partition key is required: the
    emulator answers aggregates correctly only within one partition."""
    total = 0
    # An aggregate may come back as partial counts (one per page or range); their sum is the count.
    partition_key = plain_key(partition_key, "partition key")
    async for value in container.query_items(query, parameters=parameters, partition_key=partition_key):
        total += int(value)  # type: ignore[call-overload]  # VALUE rows are numbers, typed as dicts
    return total
