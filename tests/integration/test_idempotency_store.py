"""The Idempotency-Key store against the real Cosmos DB emulator: the paths HTTP cannot reach on cue
(a first request still in flight, one that crashed before creating its job, an expired key)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from azure.cosmos.aio import CosmosClient

from devtools.stack.stack import LocalStack
from shared.errors import ApiError
from shared.jobs.idempotency import IdempotencyStore

pytestmark = pytest.mark.integration

T = TypeVar("T")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _run[T](stack: LocalStack, work: Callable[[IdempotencyStore, Any], Awaitable[T]]) -> T:
    settings = stack.settings
    assert settings.cosmos_key
    cosmos_key = settings.cosmos_key.get_secret_value()

    async def main() -> T:
        async with CosmosClient(
            settings.cosmos_endpoint,
            credential=cosmos_key,
            enable_endpoint_discovery=False,
        ) as client:
            container = client.get_database_client(settings.cosmos_database).get_container_client(
                "idempotency"
            )
            return await work(IdempotencyStore(container), container)

    return asyncio.run(main())


def _record(key: str, *, job_id: str, digest: str, created: datetime, expires: datetime) -> dict[str, Any]:
    return {
        "id": hashlib.sha256(key.encode()).hexdigest(),
        "tenantId": "dev",
        "key": key,
        "bodyHash": digest,
        "jobId": job_id,
        "createdAt": _iso(created),
        "expiresAt": _iso(expires),
        "ttl": 86400,
    }


async def _never(_: str) -> bool:
    return False


def test_a_key_whose_first_request_is_still_in_flight_is_409_in_use(stack: LocalStack) -> None:
    key, now = str(uuid.uuid4()), datetime.now(UTC)

    async def work(store: IdempotencyStore, container: Any) -> ApiError:
        await container.create_item(
            _record(key, job_id="first", digest="h", created=now, expires=now + timedelta(days=1))
        )
        with pytest.raises(ApiError) as raised:
            await store.claim("dev", key, "h", "second", _never)
        return raised.value

    error = _run(stack, work)

    assert (error.status, error.code) == (409, "IDEMPOTENCY_KEY_IN_USE")
    assert error.headers == {"Retry-After": "1"}


def test_a_key_whose_first_request_crashed_before_its_job_is_taken_over(stack: LocalStack) -> None:
    key, now = str(uuid.uuid4()), datetime.now(UTC)

    async def work(store: IdempotencyStore, container: Any) -> tuple[str | None, str]:
        long_ago = now - timedelta(minutes=5)
        await container.create_item(
            _record(key, job_id="crashed", digest="h", created=long_ago, expires=now + timedelta(days=1))
        )
        claimed = await store.claim("dev", key, "h", "second", _never)
        stored = await container.read_item(hashlib.sha256(key.encode()).hexdigest(), partition_key="dev")
        return claimed, stored["jobId"]

    assert _run(stack, work) == (None, "second")


def test_an_expired_key_is_free_again_whatever_the_body(stack: LocalStack) -> None:
    key, now = str(uuid.uuid4()), datetime.now(UTC)

    async def work(store: IdempotencyStore, container: Any) -> tuple[str | None, str]:
        yesterday = now - timedelta(days=1, minutes=1)
        await container.create_item(
            _record(key, job_id="old", digest="other", created=yesterday, expires=now - timedelta(minutes=1))
        )
        claimed = await store.claim("dev", key, "h", "new", _never)
        stored = await container.read_item(hashlib.sha256(key.encode()).hexdigest(), partition_key="dev")
        return claimed, stored["jobId"]

    assert _run(stack, work) == (None, "new")


def test_a_released_key_can_be_claimed_again(stack: LocalStack) -> None:
    key = str(uuid.uuid4())

    async def work(store: IdempotencyStore, container: Any) -> str | None:
        assert await store.claim("dev", key, "h", "failed-submit", _never) is None
        await store.release("dev", key, "failed-submit")
        return await store.claim("dev", key, "h2", "retry", _never)

    assert _run(stack, work) is None
