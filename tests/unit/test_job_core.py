"""The job state machine over at-least-once delivery, on in-memory stores: claims, duplicates, crashes,
resumption, exactly-once endings and clean-up."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest

from shared.credits.ledger import reconcile_reservations
from shared.errors import ApiError
from shared.jobs.cancel import cancel_job
from shared.jobs.claims import Deferred, GiveUp, claim_job
from shared.jobs.ending import finish_job
from shared.jobs.recovery import requeue, sweep_stale_jobs
from shared.jobs.service import submit_generation
from shared.jobs.worker import fail_poisoned, process_job
from shared.models.common import iso_utc, utc_now
from shared.models.credits import BALANCE_DOCUMENT_ID, hold_id
from shared.models.errors import ErrorCode
from shared.models.jobs import GenerationRequest, JobDocument
from shared.models.messages import JobMessage
from shared.providers.base import (
    ImageCall,
    ProviderError,
    ProviderResult,
    generate_in_parallel,
    transient_error,
)
from tests.fakes.context import CLAIM, FakeWorld, fake_world
from tests.fakes.providers import images
from tests.fakes.storage import SentMessage

TENANT = "tenant-a"


async def submit(world: FakeWorld, **fields: Any) -> JobDocument:
    request = GenerationRequest.model_validate({"prompt": "a red square", **fields})
    return await submit_generation(world.ctx, TENANT, request)


def deliveries(world: FakeWorld) -> list[JobMessage]:
    """The messages on the job queue, as the worker would get them (the queue is emptied)."""
    return [JobMessage.model_validate_json(m.content) for m in world.job_queue.take()]


async def deliver_all(world: FakeWorld) -> None:
    for message in deliveries(world):
        await process_job(world.ctx, message)


async def deliver_when_due(world: FakeWorld, *, most: int = 20) -> None:
    """Deliver every message as a queue would, each once its visibility delay is over (moving the clock
    on to it), until no message is left."""
    pending: list[SentMessage] = []
    for _ in range(most):
        pending += world.job_queue.take()
        if not pending:
            return
        pending.sort(key=lambda sent: sent.visible_at)
        due = pending.pop(0)
        await world.clock.advance(max(0.0, due.visible_at - world.clock.time()))
        await process_job(world.ctx, JobMessage.model_validate_json(due.content))
    raise AssertionError(f"messages still coming after {most} deliveries")


def account(world: FakeWorld) -> dict[str, Any]:
    return next(d for d in world.credits.documents() if d["id"] == BALANCE_DOCUMENT_ID)


def hold(world: FakeWorld, job_id: str) -> dict[str, Any] | None:
    """The job's credit hold (None: never reserved)."""
    return next((d for d in world.credits.documents() if d["id"] == hold_id(job_id)), None)


def webhooks_sent(world: FakeWorld, event: str) -> int:
    return sum(f'"{event}"' in m.content or f".{event}" in m.content for m in world.webhook_queue.sent)


def age(world: FakeWorld, job: JobDocument, **fields: timedelta) -> None:
    """Move timestamps of the stored job into the past (as if that much time had gone by)."""

    def change(doc: dict[str, Any]) -> None:
        for name, delta in fields.items():
            if name == "claim":
                doc["claim"]["expiresAt"] = iso_utc(utc_now() - delta)
            else:
                doc[name] = iso_utc(utc_now() - delta)

    world.jobs.poke(TENANT, job.id, change)


class Gate:
    """A provider outcome that blocks until released, to hold a run in the middle of its provider call."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, call: ImageCall) -> ProviderResult:
        self.entered.set()
        await self.release.wait()
        return images(call.spec.n)


async def start_held_run(
    world: FakeWorld, **fields: Any
) -> tuple[JobDocument, JobMessage, Gate, asyncio.Task[None]]:
    """Submit a job (with `fields`) and start its run, held in its provider call until the gate is
    released: the job, its message, the gate and the run."""
    job = await submit(world, **fields)
    (message,) = deliveries(world)
    gate = Gate()
    world.provider.script.append(gate)
    run = asyncio.create_task(process_job(world.ctx, message))
    await gate.entered.wait()
    return job, message, gate, run


async def test_a_job_submitted_and_delivered_once_succeeds_and_is_charged_once() -> None:
    world = fake_world()
    job = await submit(world)
    assert hold(world, job.id) is not None and hold(world, job.id)["amount"] == 1  # type: ignore[index]
    assert account(world)["reserved"] == 1 and account(world)["openReservations"] == 1

    await deliver_all(world)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "succeeded"
    assert stored["claim"] is None
    assert [o["blobName"] for o in stored["outputs"]] == [n for n in world.images.names("generated")]
    assert account(world)["spent"] == 1 and account(world)["openReservations"] == 0
    assert hold(world, job.id)["state"] == "charged"  # type: ignore[index]
    assert len(world.provider.calls) == 1


async def test_a_run_reads_its_job_only_to_claim_it_and_settles_without_reading_the_hold() -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    world.jobs.calls.clear()
    world.credits.calls.clear()

    await process_job(world.ctx, message)

    assert world.job_document(TENANT, job.id)["status"] == "succeeded"
    # The result is written from the claim's version of the job; the hold's amount is the job's credits.
    assert world.jobs.calls == {"read_item": 1, "replace_item": 2}
    assert world.credits.calls == {"execute_item_batch": 1}
    assert account(world)["spent"] == 1 and account(world)["reserved"] == 0


@pytest.mark.parametrize(
    ("output_format", "mime_type"), [(None, "image/png"), ("png", "image/png"), ("jpeg", "image/jpeg")]
)
async def test_the_stored_image_is_in_the_asked_format_converted_or_as_the_provider_drew_it(
    output_format: str | None, mime_type: str
) -> None:
    world = fake_world()
    job = await submit(world, **({"outputFormat": output_format} if output_format else {}))

    await deliver_all(world)

    (output,) = world.job_document(TENANT, job.id)["outputs"]
    assert output["mimeType"] == mime_type
    assert output["blobName"].endswith(".jpg" if output_format == "jpeg" else ".png")
    assert world.images.names("generated") == {output["blobName"]}


async def test_a_run_whose_claim_was_renewed_writes_its_result_from_the_renewal() -> None:
    world = fake_world()
    job, _, gate, run = await start_held_run(world)
    world.jobs.calls.clear()

    await world.clock.advance(CLAIM.total_seconds() / 3 + 1)  # one renewal of the claim
    renewed = world.job_document(TENANT, job.id)["claim"]["expiresAt"]
    gate.release.set()
    await run

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "succeeded" and stored["claim"] is None
    assert renewed > iso_utc(utc_now()), "the renewal moved the claim's expiry on"
    assert world.jobs.calls == {"replace_item": 2}, "the renewal and the result: no read"


async def test_a_change_made_to_the_job_during_its_run_survives_the_result_write() -> None:
    world = fake_world()
    job, _, gate, run = await start_held_run(world)

    # Another writer (the API making the job public) replaces the version the run last wrote.
    world.jobs.poke(TENANT, job.id, lambda doc: doc.update(isPublic=True))
    gate.release.set()
    await run

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "succeeded" and stored["isPublic"] is True
    assert len(stored["outputs"]) == 1 and account(world)["spent"] == 1


async def test_duplicate_deliveries_of_a_running_job_call_the_provider_once_and_end_it_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="shared")
    world = fake_world()
    job, message, gate, first = await start_held_run(
        world, webhook="http://127.0.0.1:9/hook", webhookEvents=["completed"]
    )

    # Two more deliveries of the same job while the first run is in its provider call.
    await process_job(world.ctx, message)
    await process_job(world.ctx, message)
    deferred = world.job_queue.take()
    assert len(deferred) == 2, "each duplicate puts its message back"
    assert all(m.visibility_timeout and m.visibility_timeout >= 55 for m in deferred)
    assert len(world.provider.calls) == 1

    gate.release.set()
    await first
    # The duplicates come back after the claim would have lapsed: the job has ended, they are dropped.
    world.job_queue.sent = deferred
    await deliver_when_due(world)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "succeeded"
    assert len(world.provider.calls) == 1
    assert world.job_queue.sent == []
    assert account(world)["spent"] == 1 and account(world)["reserved"] == 0
    assert webhooks_sent(world, "completed") == 1
    assert world.images.names("generated") == {o["blobName"] for o in stored["outputs"]}
    assert f"Job {job.id}: not started, run" in caplog.text
    assert caplog.text.count(f"Job {job.id} ended succeeded") == 1


async def test_a_run_taken_over_after_its_claim_lapsed_never_removes_the_winners_image() -> None:
    world = fake_world()
    job, message, gate, stalled = await start_held_run(world)

    # The first run stalls past its claim; a redelivery takes the job over and finishes it.
    age(world, job, claim=timedelta(seconds=1))
    await process_job(world.ctx, message)
    winner = world.job_document(TENANT, job.id)
    assert winner["status"] == "succeeded" and winner["attempts"] == 2

    gate.release.set()
    await stalled

    stored = world.job_document(TENANT, job.id)
    assert stored["outputs"] == winner["outputs"]
    assert world.images.names("generated") == {o["blobName"] for o in stored["outputs"]}
    assert account(world)["spent"] == 1


async def test_a_duplicate_arriving_during_a_retry_back_off_waits_for_it() -> None:
    world = fake_world()
    job = await submit(world)
    world.provider.script.append(transient_error("busy", retry_after=3))
    (message,) = deliveries(world)
    await process_job(world.ctx, message)
    (retry,) = world.job_queue.take()
    assert retry.visibility_timeout is not None and retry.visibility_timeout >= 3
    assert world.job_document(TENANT, job.id)["status"] == "queued"

    await process_job(world.ctx, message)  # a duplicate, early
    (put_back,) = world.job_queue.take()
    assert put_back.visibility_timeout is not None and put_back.visibility_timeout >= 3
    assert len(world.provider.calls) == 1


async def test_a_conflicting_write_is_reapplied_and_reports_what_it_finally_did() -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)

    # A cancel lands between the worker's read and its final write: the success must not apply.
    def cancel_meanwhile(item_id: str, body: dict[str, Any]) -> None:
        if body.get("status") == "succeeded":
            world.jobs.before_write = None
            world.jobs.poke(TENANT, item_id, lambda d: d.update(status="canceled", claim=None))

    world.jobs.before_write = cancel_meanwhile
    await process_job(world.ctx, message)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "canceled"
    assert stored["outputs"] == []
    assert world.images.names("generated") == set(), "the run removed the image nobody refers to"


async def test_a_job_canceled_during_its_run_stores_nothing_and_is_refunded() -> None:
    world = fake_world()
    job, _, gate, run = await start_held_run(world)

    canceled = await cancel_job(world.ctx, TENANT, job.id)
    gate.release.set()
    await run

    assert canceled.status == "canceled"
    assert world.job_document(TENANT, job.id)["outputs"] == []
    assert world.images.names("generated") == set()
    assert account(world)["spent"] == 0 and account(world)["reserved"] == 0


async def test_a_job_whose_run_died_is_resumed_by_the_sweep_and_succeeds() -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    claimed = await claim_job(world.ctx, TENANT, job.id, "run-that-dies")
    assert claimed.__class__.__name__ == "Claimed"
    # The host died: nothing renews the claim; a while later it has lapsed.
    age(world, job, claim=timedelta(seconds=5), updatedAt=timedelta(minutes=2))

    result = await sweep_stale_jobs(world.ctx)

    assert result.requeued == 1 and result.ended == 0
    await deliver_all(world)
    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "succeeded" and stored["attempts"] == 2
    assert account(world)["spent"] == 1


async def test_a_live_claim_is_not_swept() -> None:
    world = fake_world()
    job = await submit(world)
    deliveries(world)
    await claim_job(world.ctx, TENANT, job.id, "a-live-run")

    await world.clock.advance(30)
    result = await sweep_stale_jobs(world.ctx)

    assert result.requeued == 0 and world.job_queue.sent == []


async def test_a_job_out_of_attempts_is_ended_not_resumed() -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    for run in range(3):
        await claim_job(world.ctx, TENANT, job.id, f"run-{run}")
        age(world, job, claim=timedelta(seconds=1))

    outcome = await claim_job(world.ctx, TENANT, job.id, "run-4")
    assert isinstance(outcome, GiveUp) and outcome.code == ErrorCode.PROCESSING_FAILED

    await process_job(world.ctx, message)
    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "failed" and stored["error"]["code"] == "PROCESSING_FAILED"
    assert account(world)["spent"] == 0 and account(world)["reserved"] == 0
    assert world.provider.calls == []


async def test_a_submit_that_died_before_queueing_is_queued_by_the_sweep() -> None:
    world = fake_world()
    world.job_queue.fail_with = asyncio.CancelledError()  # the process dies at the enqueue
    with pytest.raises(asyncio.CancelledError):
        await submit(world)
    (stored,) = world.jobs.documents()
    assert stored["status"] == "queued" and world.job_queue.sent == []
    job = JobDocument.model_validate(stored)

    assert (await sweep_stale_jobs(world.ctx)).requeued == 0, "too fresh to be a lost message"
    age(world, job, updatedAt=timedelta(minutes=11))
    assert (await sweep_stale_jobs(world.ctx)).requeued == 1
    await deliver_all(world)

    assert world.job_document(TENANT, job.id)["status"] == "succeeded"
    assert account(world)["spent"] == 1 and account(world)["openReservations"] == 0


async def test_a_submit_that_died_before_reserving_is_reserved_for_when_it_is_queued_again() -> None:
    world = fake_world()
    original = world.ctx.credits.hold

    async def die(*args: Any, **kwargs: Any) -> Any:
        raise asyncio.CancelledError

    world.ctx.credits.hold = die  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await submit(world)
    world.ctx.credits.hold = original  # type: ignore[method-assign]
    (stored,) = world.jobs.documents()
    job = JobDocument.model_validate(stored)
    assert not world.credits.documents(), "no reservation was made"

    age(world, job, updatedAt=timedelta(minutes=11))
    await sweep_stale_jobs(world.ctx)
    assert hold(world, job.id)["state"] == "held" and account(world)["reserved"] == 1  # type: ignore[index]
    await deliver_all(world)
    assert world.job_document(TENANT, job.id)["status"] == "succeeded"
    assert account(world)["spent"] == 1


async def test_a_replayed_idempotency_key_queues_a_job_that_was_never_queued() -> None:
    world = fake_world()
    request = GenerationRequest.model_validate({"prompt": "a red square"})
    world.job_queue.fail_with = asyncio.CancelledError()
    with pytest.raises(asyncio.CancelledError):
        await submit_generation(world.ctx, TENANT, request, idempotency_key="key-1")
    (stored,) = world.jobs.documents()
    age(world, JobDocument.model_validate(stored), updatedAt=timedelta(seconds=30))

    again = await submit_generation(world.ctx, TENANT, request, idempotency_key="key-1")

    assert again.id == stored["id"]
    await deliver_all(world)
    assert world.job_document(TENANT, again.id)["status"] == "succeeded"
    assert len(world.jobs.documents()) == 1


async def test_insufficient_credits_leave_nothing_behind() -> None:
    world = fake_world(DEFAULT_CREDIT_BALANCE="0")
    with pytest.raises(ApiError) as refused:
        await submit(world)
    assert refused.value.status == 402
    assert world.jobs.documents() == [] and world.job_queue.sent == []


async def test_a_webhook_that_could_not_be_queued_stays_pending_and_the_sweep_sends_it() -> None:
    world = fake_world()
    job = await submit(world, webhook="http://127.0.0.1:9/hook", webhookEvents=["completed"])
    world.webhook_queue.fail_with = RuntimeError("queue down")
    await deliver_all(world)
    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "succeeded" and stored["webhookPending"] is True
    assert webhooks_sent(world, "completed") == 0

    age(world, job, updatedAt=timedelta(minutes=2))
    result = await sweep_stale_jobs(world.ctx)

    assert result.finished == 1
    assert webhooks_sent(world, "completed") == 1
    assert world.job_document(TENANT, job.id)["webhookPending"] is False
    await finish_job(world.ctx, JobDocument.model_validate(world.job_document(TENANT, job.id)))
    assert webhooks_sent(world, "completed") == 1, "finishing again sends nothing more"
    assert account(world)["spent"] == 1


async def test_images_an_earlier_run_left_under_another_name_are_removed_when_the_job_ends() -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    # A run that died after uploading a JPEG (it then lost its claim), before its final write.
    await claim_job(world.ctx, TENANT, job.id, "dead-run")
    left = f"images/{TENANT}/{job.created_at:%Y-%m-%d}/{job.id}-0.jpg"
    await world.images.upload("generated", left, b"jpeg", content_type="image/jpeg", metadata={})
    age(world, job, claim=timedelta(seconds=1))

    await process_job(world.ctx, message)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "succeeded" and stored["cleanupPending"] is False
    assert world.images.names("generated") == {o["blobName"] for o in stored["outputs"]}
    assert left not in world.images.names("generated")


async def test_an_unexpected_failure_releases_the_claim_so_the_hosts_retry_runs_at_once() -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)

    async def storage_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("storage down")

    upload = world.images.upload
    world.images.upload = storage_down  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await process_job(world.ctx, message)
    assert world.job_document(TENANT, job.id)["claim"] is None

    world.images.upload = upload  # type: ignore[method-assign]
    await process_job(world.ctx, message)  # the host's retry of the same message
    assert world.job_document(TENANT, job.id)["status"] == "succeeded"


async def test_a_deadline_passed_job_ends_timeout_when_its_message_arrives() -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    age(world, job, createdAt=timedelta(minutes=61))

    await process_job(world.ctx, message)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "failed" and stored["error"]["code"] == "TIMEOUT"
    assert world.provider.calls == []


async def test_a_second_claim_of_a_claimed_job_is_deferred_until_the_claim_lapses() -> None:
    world = fake_world()
    job = await submit(world)
    await claim_job(world.ctx, TENANT, job.id, "first")
    outcome = await claim_job(world.ctx, TENANT, job.id, "second")
    assert isinstance(outcome, Deferred) and 55 <= outcome.delay_seconds <= 60


async def test_the_poison_path_ends_the_job_once_and_refunds_it() -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    await fail_poisoned(world.ctx, message)
    await fail_poisoned(world.ctx, message)
    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "failed" and stored["error"]["code"] == "PROCESSING_FAILED"
    assert account(world)["reserved"] == 0 and account(world)["balance"] == 100


@pytest.mark.parametrize("refusal_first", [True, False])
async def test_a_refusal_of_one_image_is_final_whichever_call_fails_first(refusal_first: bool) -> None:
    async def fails(error: ProviderError, delay: float) -> ProviderResult:
        await asyncio.sleep(delay)
        raise error

    refusal = ProviderError(ErrorCode.CONTENT_POLICY, "blocked")
    calls = [fails(refusal, 0 if refusal_first else 0.02), fails(transient_error("busy"), 0.01)]
    with pytest.raises(ProviderError) as raised:
        await generate_in_parallel(calls)
    assert raised.value.code == ErrorCode.CONTENT_POLICY and not raised.value.transient


async def test_transient_failures_of_parallel_calls_keep_the_longest_retry_after() -> None:
    async def fails(retry_after: float) -> ProviderResult:
        raise transient_error("busy", retry_after=retry_after)

    with pytest.raises(ProviderError) as raised:
        await generate_in_parallel([fails(2), fails(7), fails(1)])
    assert raised.value.transient and raised.value.retry_after == 7


async def test_a_job_queued_again_just_as_it_ended_is_not_reserved_or_charged_again() -> None:
    world = fake_world()
    job = await submit(world)
    seen_by_the_sweep = JobDocument.model_validate(world.job_document(TENANT, job.id))  # still queued
    await deliver_all(world)
    assert account(world)["spent"] == 1

    # The sweep read the job before it ended, and queues it again after it ended and was charged.
    await requeue(world.ctx, seen_by_the_sweep)
    await deliver_all(world)
    await reconcile_reservations(world.ctx)

    assert account(world)["spent"] == 1
    assert account(world)["openReservations"] == 0 and account(world)["reserved"] == 0
    assert hold(world, job.id)["state"] == "charged"  # type: ignore[index]
    assert len(world.provider.calls) == 1
