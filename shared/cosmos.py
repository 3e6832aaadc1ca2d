"""Cosmos DB queries: how the stores describe one, read a page of it, count it, or walk all of it.

Only the stores (`shared/jobs/repository.py`, `shared/presets/store.py`, ...) build queries: the SQL of
a container lives next to the code that writes its documents. Paging is by continuation token: the
local emulator (like the service for cross-partition ORDER BY queries) has no OFFSET/LIMIT worth using
for deep pages, and the SDK's tokens resume a query where the last page ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Query:
    """`SELECT {select} FROM {source} WHERE {conditions...} {order}` with its parameters, in one partition
    (`partition_key`) or across all of them (None)."""

    conditions: tuple[str, ...]
    parameters: list[dict[str, Any]] = field(default_factory=list)
    partition_key: str | None = None
    select: str = "*"
    source: str = "c"
    order: str = ""

    @property
    def where(self) -> str:
        return " AND ".join(self.conditions)

    @property
    def sql(self) -> str:
        sql = f"SELECT {self.select} FROM {self.source} WHERE {self.where}"
        return f"{sql} {self.order}" if self.order else sql

    @property
    def count_sql(self) -> str:
        """The same filter as one number: `SELECT VALUE COUNT(1)`."""
        return f"SELECT VALUE COUNT(1) FROM {self.source} WHERE {self.where}"


async def query_page[ModelT: BaseModel](
    container: ContainerProxy, query: Query, *, limit: int, continuation: str | None, model: type[ModelT]
) -> tuple[list[ModelT], str | None]:
    """Up to `limit` items and the token of the next page (None when there is none)."""
    options: dict[str, Any] = {"max_item_count": limit}
    if query.partition_key is not None:
        options["partition_key"] = plain_key(query.partition_key, "partition key")
    pager = container.query_items(query.sql, parameters=query.parameters, **options).by_page(continuation)
    items: list[ModelT] = []
    async for page in pager:
        async for item in page:
            items.append(model.model_validate(item))
        # The pager's token after the first page is where the next page starts.
        token: str | None = pager.continuation_token  # type: ignore[attr-defined]
        return items, token or None
    return items, None


async def query_count(container: ContainerProxy, query: Query) -> int:
    """How many rows the query has. It must name its partition: the emulator answers aggregates
    correctly only within one."""
    if query.partition_key is None:
        raise ValueError("a count needs the partition key")
    partition_key = plain_key(query.partition_key, "partition key")
    total = 0
    # An aggregate may come back as partial counts (one per page or range); their sum is the count.
    items = container.query_items(query.count_sql, parameters=query.parameters, partition_key=partition_key)
    async for value in items:
        total += int(value)  # type: ignore[call-overload]  # VALUE rows are numbers, typed as dicts
    return total


async def query_all[ModelT: BaseModel](
    container: ContainerProxy, query: Query, model: type[ModelT]
) -> AsyncIterator[ModelT]:
    """Every row of the query, page after page (for sweeps, not for answers to a caller)."""
    options: dict[str, Any] = {}
    if query.partition_key is not None:
        options["partition_key"] = plain_key(query.partition_key, "partition key")
    async for item in container.query_items(query.sql, parameters=query.parameters, **options):
        yield model.model_validate(item)
