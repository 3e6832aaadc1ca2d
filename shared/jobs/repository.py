"""Job documents in Cosmos DB, partitioned by tenant, with optimistic concurrency on every write; and
every query over them: a tenant's jobs, the library (a job's outputs), the public gallery, the sweeps."""

from __future__ import annotations

import copy
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

from shared.cosmos import Query, query_all, query_count, query_page
from shared.models.common import iso_utc, utc_now
from shared.models.jobs import JobDocument, JobStatus
from shared.models.library import LibraryRow
from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

logger = logging.getLogger(__name__)

_IS_JOB = "c.docType = 'job'"
# A job callers see: not soft-deleted (`deletedAt` absent or null). The one statement of it in SQL.
_NOT_DELETED = "(NOT IS_DEFINED(c.deletedAt) OR IS_NULL(c.deletedAt))"
_NEWEST_FIRST = "ORDER BY c.createdAt DESC"
# A library row: a job and the index of one of its outputs (`LibraryRow`).
_IMAGE_ROWS = {"select": 'c AS job, o["index"] AS imageIndex', "source": "c JOIN o IN c.outputs"}


@dataclass(frozen=True)
class JobFilter:
    """Which of a tenant's jobs a list shows."""

    statuses: Sequence[JobStatus] = ()  # any of these; empty: every status
    preset_id: str | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    include_deleted: bool = False


def jobs_query(tenant_id: str, selected: JobFilter) -> Query:
    """The tenant's jobs matching `selected`, newest first."""
    conditions = [_IS_JOB, "c.tenantId = @tenant"]
    parameters: list[dict[str, Any]] = [{"name": "@tenant", "value": tenant_id}]
    if len(selected.statuses) == 1:
        conditions.append("c.status = @status")
        parameters.append({"name": "@status", "value": selected.statuses[0].value})
    elif selected.statuses:
        names = [f"@status{i}" for i in range(len(selected.statuses))]
        conditions.append(f"c.status IN ({', '.join(names)})")
        parameters += [{"name": n, "value": s.value} for n, s in zip(names, selected.statuses, strict=True)]
    if selected.preset_id is not None:
        conditions.append("c.presetId = @presetId")
        parameters.append({"name": "@presetId", "value": selected.preset_id})
    # Stored timestamps have one fixed width, so string comparison orders them as times.
    if selected.created_from is not None:
        conditions.append("c.createdAt >= @createdFrom")
        parameters.append({"name": "@createdFrom", "value": iso_utc(selected.created_from)})
    if selected.created_to is not None:
        conditions.append("c.createdAt < @createdTo")
        parameters.append({"name": "@createdTo", "value": iso_utc(selected.created_to)})
    if not selected.include_deleted:
        conditions.append(_NOT_DELETED)
    return Query(tuple(conditions), parameters, partition_key=tenant_id, order=_NEWEST_FIRST)


def images_query(tenant_id: str, *, preset_id: str | None = None, search: str | None = None) -> Query:
    """The tenant's library: every output of its visible succeeded jobs, newest job first; `search` is a
    case-insensitive substring of the prompt or the preset's name."""
    conditions = ["c.tenantId = @tenant", *_visible_images()]
    parameters: list[dict[str, Any]] = [
        {"name": "@tenant", "value": tenant_id},
        {"name": "@succeeded", "value": JobStatus.SUCCEEDED.value},
    ]
    if preset_id is not None:
        conditions.append("c.presetId = @presetId")
        parameters.append({"name": "@presetId", "value": preset_id})
    if search is not None:
        # LOWER on both sides works on the service and the emulator alike.
        conditions.append(
            "(CONTAINS(LOWER(c.spec.prompt), @search) "
            "OR (IS_STRING(c.presetName) AND CONTAINS(LOWER(c.presetName), @search)))"
        )
        parameters.append({"name": "@search", "value": search.lower()})
    return Query(tuple(conditions), parameters, partition_key=tenant_id, order=_NEWEST_FIRST, **_IMAGE_ROWS)


def gallery_query() -> Query:
    """The public images of every tenant (a cross-partition query), newest job first."""
    conditions = ("c.isPublic = true", *_visible_images())
    parameters: list[dict[str, Any]] = [{"name": "@succeeded", "value": JobStatus.SUCCEEDED.value}]
    return Query(conditions, parameters, order=_NEWEST_FIRST, **_IMAGE_ROWS)


def _visible_images() -> tuple[str, ...]:
    return (_IS_JOB, "c.status = @succeeded", _NOT_DELETED)


# A job mutation: change the document in place, or return False to leave it as it is. It may run more
# than once (after a concurrent write it is applied again to the fresh document), so it must decide from
# the document alone.
Mutation = Callable[[JobDocument], bool]


@dataclass(frozen=True)
class StoredVersion:
    """One version of a job document as the service stores it: its JSON and its etag."""

    item: dict[str, Any]
    etag: str


@dataclass(frozen=True)
class JobUpdate:
    """What `JobRepository.update` did: the document as stored afterwards (None when there is no such
    job), whether this call's mutation is what was written, and, after a write, that stored version (a
    later update may start from it instead of reading the job again)."""

    job: JobDocument | None
    applied: bool
    version: StoredVersion | None = field(default=None, repr=False)


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

    async def update(
        self, tenant_id: str, job_id: str, mutate: Mutation, *, known: JobUpdate | None = None
    ) -> JobUpdate:
        """Apply `mutate` to the current document and replace it if its etag is unchanged; on a
        concurrent write, re-read and apply again, so `applied` says what the last try did.

        `known` (what an earlier update returned) saves the first read: the mutation is applied to the
        version that update wrote, on condition of that version's etag, which the service accepts only
        while it is still the stored version, so the outcome is the one a fresh read would have given.
        A stale version (another write came between) fails that condition and the update reads as
        usual; so does a refusal, which only the stored version may decide."""
        version = known.version if known is not None else None
        while True:
            from_known = version is not None
            if version is None:
                version = await self._read_version(tenant_id, job_id)
                if version is None:
                    return JobUpdate(job=None, applied=False)
            # A copy: values the model keeps as given (`meta`) must not let a mutation reach the known
            # version, which a later update may start from again.
            job = JobDocument.model_validate(copy.deepcopy(version.item) if from_known else version.item)
            etag, version = version.etag, None
            if not mutate(job):
                if from_known:
                    continue  # refused by what may be an old version: ask the stored one
                return JobUpdate(job=job, applied=False)
            job.updated_at = utc_now()
            try:
                stored = await self._container.replace_item(
                    job_id,
                    job.model_dump(mode="json"),
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            except CosmosAccessConditionFailedError:
                if not from_known:
                    logger.info("Job %s changed concurrently; applying the update again", job_id)
                continue
            except CosmosResourceNotFoundError:
                return JobUpdate(job=None, applied=False)  # removed (a hard delete) meanwhile
            # The service answers a replace with the document as stored (unless told not to).
            return JobUpdate(job=job, applied=True, version=_version(stored))

    async def unfinished(self, updated_before: datetime) -> AsyncIterator[JobDocument]:
        """Jobs of every tenant still queued or running with no write since `updated_before`."""
        query = Query(
            (_IS_JOB, "c.status IN ('queued', 'running')", "c.updatedAt < @before"),
            [{"name": "@before", "value": iso_utc(updated_before)}],
        )
        async for job in query_all(self._container, query, JobDocument):
            yield job

    async def ended_with_pending_work(self, updated_before: datetime) -> AsyncIterator[JobDocument]:
        """Ended jobs of every tenant whose end-of-job work (webhook, clean-up) is still recorded as to do
        since before `updated_before`: the process that ended them stopped before finishing it."""
        query = Query(
            (
                _IS_JOB,
                "c.status IN ('succeeded', 'failed', 'canceled')",
                "(c.webhookPending = true OR c.cleanupPending = true)",
                "c.updatedAt < @before",
            ),
            [{"name": "@before", "value": iso_utc(updated_before)}],
        )
        async for job in query_all(self._container, query, JobDocument):
            yield job

    async def page(
        self, query: Query, *, limit: int, continuation: str | None
    ) -> tuple[list[JobDocument], str | None]:
        """One page of a `jobs_query`, with the SDK's continuation token for the next (None on the last)."""
        return await query_page(
            self._container, query, limit=limit, continuation=continuation, model=JobDocument
        )

    async def image_page(
        self, query: Query, *, limit: int, continuation: str | None
    ) -> tuple[list[LibraryRow], str | None]:
        """One page of an `images_query` or the `gallery_query`: (job, output index) rows."""
        return await query_page(
            self._container, query, limit=limit, continuation=continuation, model=LibraryRow
        )

    async def count(self, query: Query) -> int:
        """How many rows a tenant's query has (jobs, or images of an `images_query`)."""
        return await query_count(self._container, query)

    async def delete(self, tenant_id: str, job_id: str) -> bool:
        """Remove the document; False when it was already gone."""
        try:
            await self._container.delete_item(
                plain_key(job_id, "job id"), partition_key=plain_key(tenant_id, "tenant id")
            )
        except CosmosResourceNotFoundError:
            return False
        return True

    async def _read_version(self, tenant_id: str, job_id: str) -> StoredVersion | None:
        item = await self._read(tenant_id, job_id)
        return None if item is None else StoredVersion(item, item["_etag"])

    async def _read(self, tenant_id: str, job_id: str) -> dict[str, Any] | None:
        try:
            return await self._container.read_item(
                plain_key(job_id, "job id"), partition_key=plain_key(tenant_id, "tenant id")
            )
        except CosmosResourceNotFoundError:
            return None


def _version(item: dict[str, Any]) -> StoredVersion | None:
    """The version a write's answer describes; None when the answer leaves it out (no content)."""
    etag = item.get("_etag")
    return StoredVersion(item, etag) if isinstance(etag, str) else None
