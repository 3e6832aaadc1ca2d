"""Job documents in Cosmos DB, partitioned by tenant, with optimistic concurrency on every write."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

from shared.cosmos_paging import ModelT, query_count, query_page
from shared.models.common import iso_utc, utc_now
from shared.models.jobs import JobDocument
from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

logger = logging.getLogger(__name__)

# A job mutation: change the document in place, or return False to leave it as it is. It may run more
# than once (after a concurrent write it is applied again to the fresh document), so it must decide from
# the document alone.
Mutation = Callable[[JobDocument], bool]


@dataclass(frozen=True)
class JobUpdate:
    """What `JobRepository.update` did: the document as stored afterwards (None when there is no such
    job) and whether this call's mutation is what was written."""

    job: JobDocument | None
    applied: bool


class JobRepository:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def create(self, job: JobDocument) -> None:
        plain_key(job.id, "job id")
        plain_key(job.tenant_id, "tenant id")
        await self._container.create_item(job.model_dump(mode="json"))

    async def get(self, tenant_id: str, job_id: str) -> JobDocument | None:
        item = await self._read(tenant_id, job_id)
        return None if item is None else JobDocument.model_validate(item)

    async def update(self, tenant_id: str, job_id: str, mutate: Mutation) -> JobUpdate:
        """Apply `mutate` to the current document and replace it if its etag is unchanged; on a
        concurrent write, re-read and apply again, so `applied` says what the last try did."""
        while True:
            item = await self._read(tenant_id, job_id)
            if item is None:
                return JobUpdate(job=None, applied=False)
            job = JobDocument.model_validate(item)
            if not mutate(job):
                return JobUpdate(job=job, applied=False)
            job.updated_at = utc_now()
            try:
                await self._container.replace_item(
                    job_id,
                    job.model_dump(mode="json"),
                    etag=item["_etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                return JobUpdate(job=job, applied=True)
            except CosmosAccessConditionFailedError:
                logger.info("Job %s changed concurrently; applying the update again", job_id)
            except CosmosResourceNotFoundError:
                return JobUpdate(job=None, applied=False)  # removed (a hard delete) meanwhile

    async def unfinished(self, updated_before: datetime) -> AsyncIterator[JobDocument]:
        """Jobs of every tenant still queued or running with no write since `updated_before`."""
        query = (
            "SELECT * FROM c WHERE c.docType = 'job' AND c.status IN ('queued', 'running') "
            "AND c.updatedAt < @before"
        )
        async for item in self._container.query_items(
            query, parameters=[{"name": "@before", "value": iso_utc(updated_before)}]
        ):
            yield JobDocument.model_validate(item)

    async def ended_with_pending_work(self, updated_before: datetime) -> AsyncIterator[JobDocument]:
        """Ended jobs of every tenant whose end-of-job work (webhook, clean-up) is still recorded as to do
        since before `updated_before`: the process that ended them stopped before finishing it."""
        query = (
            "SELECT * FROM c WHERE c.docType = 'job' AND c.status IN ('succeeded', 'failed', 'canceled') "
            "AND (c.webhookPending = true OR c.cleanupPending = true) AND c.updatedAt < @before"
        )
        async for item in self._container.query_items(
            query, parameters=[{"name": "@before", "value": iso_utc(updated_before)}]
        ):
            yield JobDocument.model_validate(item)

    async def page(
        self,
        query: str,
        parameters: list[dict[str, Any]],
        *,
        tenant_id: str | None,
        limit: int,
        continuation: str | None,
    ) -> tuple[list[JobDocument], str | None]:
        """One page of a query, in the tenant's partition (or across tenants when `tenant_id` is None),
        with the SDK's continuation token for the next page (None on the last)."""
        return await self.rows_page(
            query, parameters, tenant_id=tenant_id, limit=limit, continuation=continuation, model=JobDocument
        )

    async def rows_page(
        self,
        query: str,
        parameters: list[dict[str, Any]],
        *,
        tenant_id: str | None,
        limit: int,
        continuation: str | None,
        model: type[ModelT],
    ) -> tuple[list[ModelT], str | None]:
        """As `page`, for queries whose rows are projections (e.g. a JOIN over outputs), not jobs."""
        return await query_page(
            self._container,
            query,
            parameters,
            partition_key=tenant_id,
            limit=limit,
            continuation=continuation,
            model=model,
        )

    async def count(self, query: str, parameters: list[dict[str, Any]], *, tenant_id: str) -> int:
        """The value of a `SELECT VALUE COUNT(1) ...` query in the tenant's partition."""
        return await query_count(self._container, query, parameters, partition_key=tenant_id)

    async def delete(self, tenant_id: str, job_id: str) -> bool:
        """Remove the document; False when it was already gone."""
        try:
            await self._container.delete_item(
                plain_key(job_id, "job id"), partition_key=plain_key(tenant_id, "tenant id")
            )
        except CosmosResourceNotFoundError:
            return False
        return True

    async def _read(self, tenant_id: str, job_id: str) -> dict[str, Any] | None:
        try:
            return await self._container.read_item(
                plain_key(job_id, "job id"), partition_key=plain_key(tenant_id, "tenant id")
            )
        except CosmosResourceNotFoundError:
            return None
