"""Writes that start from a version the process already holds instead of reading it again: a job update
from the document an earlier update wrote (its etag), and a credit settlement from the amount the job
recorded. Each saves a read only while what it starts from is what is stored; otherwise it reads and
does what a fresh read would have done."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from shared.credits.store import CreditStore
from shared.jobs.repository import JobRepository, JobUpdate
from shared.models.common import utc_now
from shared.models.credits import BALANCE_DOCUMENT_ID
from shared.models.jobs import GenerationSpec, JobDocument, JobStatus
from tests.fakes.cosmos import FakeContainer

TENANT = "tenant-a"


def new_job(job_id: str = "job-1") -> JobDocument:
    spec = GenerationSpec(prompt="p", provider="gemini", model="m", aspect_ratio="1:1", resolution="standard")
    now = utc_now()
    return JobDocument(
        id=job_id, tenant_id=TENANT, status=JobStatus.QUEUED, spec=spec, created_at=now, updated_at=now
    )


async def stored_once(container: FakeContainer) -> tuple[JobRepository, JobUpdate]:
    """A repository with one job and the update that last wrote it (attempts 1)."""
    jobs = JobRepository(cast(Any, container))
    await jobs.create(new_job())

    def first(doc: JobDocument) -> bool:
        doc.attempts = 1
        return True

    return jobs, await jobs.update(TENANT, "job-1", first)


def add_attempt(doc: JobDocument) -> bool:
    doc.attempts += 1
    return True


async def test_an_update_from_the_version_an_update_wrote_does_not_read_and_applies_to_it() -> None:
    container = FakeContainer()
    jobs, written = await stored_once(container)
    reads = container.calls["read_item"]

    update = await jobs.update(TENANT, "job-1", add_attempt, known=written)

    assert update.applied and update.job is not None and update.job.attempts == 2
    assert container.calls["read_item"] == reads, "the known version saved the read"
    (stored,) = container.documents()
    assert stored["attempts"] == 2
    # The result is a known version again: a chain of one run's writes reads nothing.
    again = await jobs.update(TENANT, "job-1", add_attempt, known=update)
    assert again.applied and container.documents()[0]["attempts"] == 3
    assert container.calls["read_item"] == reads


async def test_an_update_from_a_version_someone_else_replaced_reads_and_keeps_their_change() -> None:
    container = FakeContainer()
    jobs, written = await stored_once(container)
    container.poke(TENANT, "job-1", lambda doc: doc.update(isPublic=True, attempts=5))
    reads = container.calls["read_item"]

    update = await jobs.update(TENANT, "job-1", add_attempt, known=written)

    assert update.applied and update.job is not None
    (stored,) = container.documents()
    assert (stored["attempts"], stored["isPublic"]) == (6, True), "applied to the stored version"
    assert container.calls["read_item"] == reads + 1
    assert container.calls["replace_item"] == 3  # the first write, the refused one, the applied one


async def test_a_refusal_by_a_known_version_is_decided_again_by_the_stored_one() -> None:
    container = FakeContainer()
    jobs, written = await stored_once(container)
    # Stored: claimed by run-b; the known version (attempts 1) has no claim.
    container.poke(
        TENANT, "job-1", lambda doc: doc.update(claim={"owner": "run-b", "expiresAt": doc["createdAt"]})
    )

    def only_unclaimed(doc: JobDocument) -> bool:
        if doc.claim is not None:
            return False
        doc.attempts += 1
        return True

    def only_claimed(doc: JobDocument) -> bool:
        if doc.claim is None:
            return False
        doc.attempts += 10
        return True

    refused = await jobs.update(TENANT, "job-1", only_unclaimed, known=written)
    assert not refused.applied, "the stored version has a claim"
    assert refused.job is not None and refused.job.claim is not None, "what is stored, not what was known"
    applied = await jobs.update(TENANT, "job-1", only_claimed, known=written)
    assert applied.applied, "the known version would have refused; the stored one accepts"
    assert container.documents()[0]["attempts"] == 11


async def test_an_update_from_a_known_version_of_a_removed_job_finds_no_job() -> None:
    container = FakeContainer()
    jobs, written = await stored_once(container)
    await jobs.delete(TENANT, "job-1")

    update = await jobs.update(TENANT, "job-1", add_attempt, known=written)

    assert update == JobUpdate(job=None, applied=False)
    assert container.documents() == []


async def test_a_mutation_of_an_update_from_a_known_version_leaves_that_version_as_it_was() -> None:
    container = FakeContainer()
    jobs, written = await stored_once(container)
    container.poke(TENANT, "job-1", lambda doc: doc.update(attempts=7))

    def tag(doc: JobDocument) -> bool:
        doc.meta = {**(doc.meta or {}), "tag": doc.attempts}
        doc.attempts += 1
        return True

    await jobs.update(TENANT, "job-1", tag, known=written)

    assert written.job is not None and written.job.attempts == 1 and written.job.meta is None
    assert written.version is not None and written.version.item["attempts"] == 1
    assert container.documents()[0]["meta"] == {"tag": 7}


async def test_concurrent_updates_from_one_known_version_each_apply_once() -> None:
    container = FakeContainer()
    container.yields = True
    jobs, written = await stored_once(container)

    updates = await asyncio.gather(
        *(jobs.update(TENANT, "job-1", add_attempt, known=written) for _ in range(5))
    )

    assert all(update.applied for update in updates)
    assert container.documents()[0]["attempts"] == 6, "no increment lost to a stale version"


async def held(container: FakeContainer, amount: int) -> CreditStore:
    credits = CreditStore(cast(Any, container), initial_balance=100)
    assert await credits.hold(TENANT, "job-1", amount) == "reserved"
    return credits


def account(container: FakeContainer) -> tuple[int, int, int, int]:
    doc = next(d for d in container.documents() if d["id"] == BALANCE_DOCUMENT_ID)
    return doc["balance"], doc["reserved"], doc["spent"], doc["openReservations"]


async def test_a_settlement_with_the_held_amount_is_one_batch_and_no_read() -> None:
    container = FakeContainer()
    credits = await held(container, 3)
    calls = dict(container.calls)

    assert await credits.settle(TENANT, "job-1", charge=True, keep_seconds=60, amount=3) == 3

    assert account(container) == (97, 0, 3, 0)
    assert container.calls["read_item"] == calls.get("read_item", 0)
    assert container.calls["execute_item_batch"] == calls["execute_item_batch"] + 1


async def test_a_settlement_with_another_amount_than_the_hold_settles_what_was_held() -> None:
    container = FakeContainer()
    credits = await held(container, 3)

    assert await credits.settle(TENANT, "job-1", charge=True, keep_seconds=60, amount=5) == 3

    assert account(container) == (97, 0, 3, 0), "the account moves by the hold, not the guess"


async def test_a_settlement_with_the_amount_repeated_or_without_a_hold_changes_nothing() -> None:
    container = FakeContainer()
    credits = await held(container, 3)
    assert await credits.settle(TENANT, "job-1", charge=False, keep_seconds=60, amount=3) == 3

    assert await credits.settle(TENANT, "job-1", charge=True, keep_seconds=60, amount=3) == 0
    assert await credits.settle(TENANT, "job-2", charge=True, keep_seconds=60, amount=3) == 0

    assert account(container) == (100, 0, 0, 0)
    hold = next(d for d in container.documents() if d["id"] != BALANCE_DOCUMENT_ID)
    assert hold["state"] == "refunded"
