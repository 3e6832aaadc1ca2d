"""Ids never reach storage unless they are plain document ids: the id formats, the stores' one guard, and
every store refusing a hostile id or partition key before it makes a single call to Azure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.auth.keys import ApiKeyStore
from shared.credits.store import CreditStore
from shared.ids import (
    is_api_key_id,
    is_job_id,
    is_preset_id,
    is_tenant_id,
    new_job_id,
    new_preset_id,
    split_image_id,
)
from shared.images.store import ImageStore, image_blob_name, input_blob_name
from shared.jobs.idempotency import IdempotencyStore
from shared.jobs.repository import JobFilter, JobRepository, images_query, jobs_query
from shared.models.jobs import GenerationSpec, JobDocument, JobStatus
from shared.models.presets import PresetDocument
from shared.presets.store import PresetStore
from shared.store_keys import UnsafeStoreKeyError, plain_blob_name, plain_key
from shared.webhooks.secrets import WebhookSecretStore

JOB_ID = "0b6c0f4e-3f0e-4a5e-9c39-8f6a2d3b1e77"

# What attackers sent (decoded, as the route would receive them): dot segments, path and URL syntax,
# percent escapes a later decode would turn into those, whitespace, control characters, unicode, length.
HOSTILE = [
    "",
    ".",
    "..",
    "...",
    "../presets",
    "a/b",
    "/",
    "a\\b",
    "a?b",
    "a#b",
    "%2e%2e",
    "%2f",
    "a b",
    " a",
    "a\n",
    "tenant-a\n",
    "a\x00b",
    "a\tb",
    "a\x7f",
    "caf\u00e9",
    "\u202eabc",
    "x" * 256,
]


@pytest.mark.parametrize(
    "value",
    [
        JOB_ID,
        new_job_id(),
        f"{JOB_ID}-3",
        new_preset_id(),
        "dev",
        "tenant.a_b-c",
        "0123456789abcdef",
        "balance",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "x" * 255,
    ],
)
def test_every_id_the_service_mints_is_plain(value: str) -> None:
    assert plain_key(value) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_anything_else_is_refused_by_the_guard(value: str) -> None:
    with pytest.raises(UnsafeStoreKeyError):
        plain_key(value, "job id")


def test_blob_names_are_checked_segment_by_segment() -> None:
    created = datetime(2026, 11, 22, tzinfo=UTC)
    for name in (
        image_blob_name("dev", created, JOB_ID, 0, "png"),
        image_blob_name("org-1", created, JOB_ID, 2, "jpg", naming="uuid"),
        input_blob_name("dev", created, JOB_ID, "ref-0.png"),
    ):
        assert plain_blob_name(name) == name
    for name in ("images/../x.png", "images//x.png", "images/./x.png", "/images/x.png", "images/x.png?a", ""):
        with pytest.raises(UnsafeStoreKeyError):
            plain_blob_name(name)
    with pytest.raises(UnsafeStoreKeyError):
        plain_blob_name(image_blob_name("..", created, JOB_ID, 0, "png"))


def test_the_id_formats_are_full_matches() -> None:
    assert is_job_id(JOB_ID) and not is_job_id(JOB_ID + "\n") and not is_job_id(JOB_ID.upper())
    assert split_image_id(f"{JOB_ID}-12") == (JOB_ID, 12)
    for value in (f"{JOB_ID}-", f"{JOB_ID}-1\n", f"{JOB_ID}-12345", "..-0", f"{JOB_ID}-1a", JOB_ID):
        assert split_image_id(value) is None, value
    assert is_preset_id(new_preset_id()) and not is_preset_id(new_preset_id() + "\n")
    assert not is_preset_id("") and not is_preset_id("preset_..")
    assert is_api_key_id("0123456789abcdef") and not is_api_key_id("0123456789abcdef\n")
    assert is_tenant_id("tenant-a") and not is_tenant_id("tenant-a\n") and not is_tenant_id(".a")
    assert not is_tenant_id(7) and not is_tenant_id(None)


class RefusingContainer:
    """A Cosmos container (or blob service) that fails the test if any call reaches it."""

    calls: list[str]

    def __init__(self) -> None:
        self.calls = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            raise AssertionError(f"{name}{args} reached storage")

        return call


def _job(job_id: str, tenant_id: str) -> JobDocument:
    now = datetime.now(UTC)
    return JobDocument(
        id=job_id,
        tenant_id=tenant_id,
        status=JobStatus.QUEUED,
        spec=GenerationSpec(prompt="p", provider="gemini", model="m", aspect_ratio="1:1"),
        created_at=now,
        updated_at=now,
    )


def _preset(preset_id: str, tenant_id: str) -> PresetDocument:
    now = datetime.now(UTC)
    return PresetDocument(
        id=preset_id, tenant_id=tenant_id, name="n", prompt_template="t", created_at=now, updated_at=now
    )


StoreCall = Callable[[Any, str], Awaitable[object]]

# Every store operation that addresses a document or a partition by a caller-influenced value.
STORE_CALLS: list[tuple[str, type, StoreCall]] = [
    ("jobs.get(id)", JobRepository, lambda s, v: s.get("dev", v)),
    ("jobs.get(tenant)", JobRepository, lambda s, v: s.get(v, JOB_ID)),
    ("jobs.update", JobRepository, lambda s, v: s.update("dev", v, lambda job: True)),
    ("jobs.delete(id)", JobRepository, lambda s, v: s.delete("dev", v)),
    ("jobs.delete(tenant)", JobRepository, lambda s, v: s.delete(v, JOB_ID)),
    ("jobs.create", JobRepository, lambda s, v: s.create(_job(v, "dev"))),
    ("jobs.create(tenant)", JobRepository, lambda s, v: s.create(_job(JOB_ID, v))),
    ("jobs.count", JobRepository, lambda s, v: s.count(jobs_query(v, JobFilter()))),
    ("jobs.page", JobRepository, lambda s, v: s.page(jobs_query(v, JobFilter()), limit=1, continuation=None)),
    (
        "jobs.image_page",
        JobRepository,
        lambda s, v: s.image_page(images_query(v), limit=1, continuation=None),
    ),
    ("presets.get(id)", PresetStore, lambda s, v: s.get("dev", v)),
    ("presets.get(tenant)", PresetStore, lambda s, v: s.get(v, new_preset_id())),
    ("presets.read_with_etag", PresetStore, lambda s, v: s.read_with_etag("dev", v)),
    ("presets.delete(id)", PresetStore, lambda s, v: s.delete("dev", v)),
    ("presets.delete(tenant)", PresetStore, lambda s, v: s.delete(v, new_preset_id())),
    ("presets.replace", PresetStore, lambda s, v: s.replace(_preset(v, "dev"))),
    ("presets.create", PresetStore, lambda s, v: s.create(_preset(new_preset_id(), v))),
    ("presets.page", PresetStore, lambda s, v: s.page(v, limit=1, continuation=None)),
    ("api-keys.get", ApiKeyStore, lambda s, v: s.get(v)),
    ("api-keys.revoke", ApiKeyStore, lambda s, v: s.revoke(v)),
    (
        "api-keys.create",
        ApiKeyStore,
        lambda s, v: s.create(secret="s", tenant_id=v, name=None, scopes=[], rate_limit=1),
    ),
    ("webhook-secrets.get", WebhookSecretStore, lambda s, v: s.get(v)),
    ("idempotency.release", IdempotencyStore, lambda s, v: s.release(v, "key", JOB_ID)),
    (
        "idempotency.claim",
        IdempotencyStore,
        lambda s, v: s.claim(v, "key", "digest", JOB_ID, lambda _: _never()),
    ),
]


async def _never() -> bool:
    raise AssertionError("not reached")


@pytest.mark.parametrize(("name", "store_type", "call"), STORE_CALLS, ids=[c[0] for c in STORE_CALLS])
@pytest.mark.parametrize("value", ["..", "%2e%2e", "a/b", "tenant-a\n", "x" * 300])
async def test_every_store_refuses_before_calling_cosmos(
    name: str, store_type: type, call: StoreCall, value: str
) -> None:
    container = RefusingContainer()
    store = store_type(container)

    with pytest.raises(UnsafeStoreKeyError):
        await call(store, value)

    assert container.calls == []


@pytest.mark.parametrize("value", ["..", "a/b", "tenant-a\n"])
async def test_the_credit_store_refuses_a_hostile_tenant(value: str) -> None:
    container = RefusingContainer()
    store = CreditStore(container, initial_balance=1)  # type: ignore[arg-type]

    with pytest.raises(UnsafeStoreKeyError):
        await store.get(value)
    with pytest.raises(UnsafeStoreKeyError):
        await store.hold(value, "job-1", 1)
    with pytest.raises(UnsafeStoreKeyError):
        await store.hold("tenant-a", value, 1)
    with pytest.raises(UnsafeStoreKeyError):
        await store.settle(value, "job-1", charge=True, keep_seconds=60)
    assert container.calls == []


@pytest.mark.parametrize(
    "blob_name", ["images/../x.png", "images/%2e%2e/x.png", "images/dev/2026-11-22/a?b.png", "images/a\n/x"]
)
async def test_the_image_store_refuses_a_hostile_blob_name(blob_name: str) -> None:
    service = RefusingContainer()
    store = ImageStore(service, url_ttl=timedelta(minutes=1))  # type: ignore[arg-type]

    for operation in (
        lambda: store.read("generated", blob_name),
        lambda: store.delete("generated", blob_name),
        lambda: store.etag("generated", blob_name),
        lambda: store.read_url("generated", blob_name),
        lambda: store.upload("generated", blob_name, b"x", content_type="image/png", metadata={}),
    ):
        with pytest.raises(UnsafeStoreKeyError):
            await operation()
    with pytest.raises(UnsafeStoreKeyError):
        await store.read("..", "images/x.png")
    assert service.calls == []
