"""`Idempotency-Key` on submit: the same key and body within 24 h return the same job.

A record keyed by tenant and key holds a hash of the body and the job id. It is created with
`create_item` before the job, so of two concurrent submits with one key exactly one creates a job;
the other finds the record and answers with that job.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)

from shared import clock
from shared.errors import ApiError
from shared.models.common import StoredModel, UtcDateTime, utc_now
from shared.models.errors import ErrorCode
from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

    from shared.app_context import AppContext
    from shared.models.jobs import GenerationRequest, JobDocument

logger = logging.getLogger(__name__)

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# A record whose job never appeared this long after it was written belongs to a submit that crashed
# between the two writes; the key may then be taken over.
ORPHAN_AFTER = timedelta(seconds=30)


class IdempotencyRecord(StoredModel):
    id: str
    tenant_id: str
    key: str
    body_hash: str
    job_id: str
    created_at: UtcDateTime
    expires_at: UtcDateTime
    ttl: int


def body_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400,
            ErrorCode.VALIDATION_ERROR,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            details=[{"field": "Idempotency-Key", "message": "invalid key"}],
        )
    return key


class IdempotencyStore:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def claim(
        self,
        tenant_id: str,
        key: str,
        digest: str,
        job_id: str,
        job_exists: Callable[[str], Awaitable[bool]],
    ) -> str | None:
        """Bind `key` to `job_id`. None when this call bound it (go on and create the job); otherwise the
        id of the job the key already names. The same key with another body is a 409."""
        record_id = hashlib.sha256(key.encode()).hexdigest()
        plain_key(tenant_id, "tenant id")
        while True:
            now = utc_now()
            record = IdempotencyRecord(
                id=record_id,
                tenant_id=tenant_id,
                key=key,
                body_hash=digest,
                job_id=job_id,
                created_at=now,
                expires_at=now + KEY_LIFETIME,
                ttl=int(KEY_LIFETIME.total_seconds()),
            )
            try:
                await self._container.create_item(record.model_dump(mode="json"))
                return None
            except CosmosResourceExistsError:
                pass
            item = await self._read(tenant_id, record_id)
            if item is None:
                continue  # expired and removed in between: try again
            existing = IdempotencyRecord.model_validate(item)
            if existing.expires_at > now and existing.body_hash != digest:
                raise ApiError(
                    409,
                    ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    "This Idempotency-Key was used with a different request body.",
                    details={"idempotencyKey": key, "jobId": existing.job_id},
                )
            if existing.expires_at > now:
                if await self._wait_for_job(existing, job_exists):
                    return existing.job_id
                if now - existing.created_at < ORPHAN_AFTER:
                    raise ApiError(
                        409,
                        ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                        "A request with this Idempotency-Key is still being processed; retry shortly.",
                        details={"idempotencyKey": key},
                        headers={"Retry-After": "1"},
                    )
                logger.warning("Idempotency key of job %s has no job; taking it over", existing.job_id)
            if await self._replace(item, record):
                return None

    async def release(self, tenant_id: str, key: str, job_id: str) -> None:
        """Forget the key when the submit that bound it failed before a job existed."""
        record_id = hashlib.sha256(key.encode()).hexdigest()
        item = await self._read(tenant_id, record_id)
        if item is None or item.get("jobId") != job_id:
            return
        try:
            await self._container.delete_item(
                record_id,
                partition_key=tenant_id,
                etag=item["_etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (CosmosResourceNotFoundError, CosmosAccessConditionFailedError):
            pass

    async def _wait_for_job(
        self, record: IdempotencyRecord, job_exists: Callable[[str], Awaitable[bool]]
    ) -> bool:
        # The first submit writes its job right after the record: give it a moment.
        for _ in range(10):
            if await job_exists(record.job_id):
                return True
            await clock.sleep(0.2)
        return False

    async def _replace(self, item: dict[str, Any], record: IdempotencyRecord) -> bool:
        try:
            await self._container.replace_item(
                record.id,
                record.model_dump(mode="json"),
                etag=item["_etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (CosmosAccessConditionFailedError, CosmosResourceNotFoundError):
            return False
        return True

    async def _read(self, tenant_id: str, record_id: str) -> dict[str, Any] | None:
        try:
            return await self._container.read_item(
                plain_key(record_id, "idempotency record id"), partition_key=plain_key(tenant_id, "tenant id")
            )
        except CosmosResourceNotFoundError:
            return None


async def claim_idempotency_key(
    ctx: AppContext, tenant_id: str, key: str, request: GenerationRequest, job_id: str
) -> JobDocument | None:
    """The job an earlier submit with this key created, or None when `job_id` now holds the key."""
    digest = body_hash(request.model_dump_json().encode())

    async def job_exists(existing_id: str) -> bool:
        return await ctx.jobs.get(tenant_id, existing_id) is not None

    existing_id = await ctx.idempotency.claim(tenant_id, key, digest, job_id, job_exists)
    if existing_id is None:
        return None
    return await ctx.jobs.get(tenant_id, existing_id)
