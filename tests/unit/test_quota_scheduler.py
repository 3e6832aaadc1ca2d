"""Provider quotas as a schedule, on in-memory stores: a job beyond its model's quota waits `queued`
without an attempt or a claim, runs when its slot comes, takes one slot however often it is delivered,
a 429 slows the model down for everyone and is no attempt, the wait has its own deadline, the line is
fair across tenants and its order is the job's queue position."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from shared.errors import ApiError
from shared.jobs.service import job_view, submit_generation
from shared.jobs.worker import process_job
from shared.models.common import iso_utc, utc_now
from shared.models.jobs import GenerationRequest, JobDocument
from shared.models.messages import JobMessage
from shared.models.quotas import QuotaPace
from shared.providers.base import transient_error
from shared.scheduling.pace import current_factor
from shared.scheduling.positions import status_retry_after
from tests.fakes.context import FakeWorld, fake_world
from tests.unit.test_job_core import (
    TENANT,
    Gate,
    account,
    deliver_all,
    deliveries,
    hold,
    submit,
    webhooks_sent,
)

MODEL = "gemini/gemini-2.5-flash-image"
# Two lanes, one call each per window.
QUOTA = {"PROVIDER_QUOTAS": f"{MODEL}=rpm:2"}
# Long enough for every lane entry, back-off and waiter's due time of one window to have passed.
WINDOW = 70


def quota_documents(world: FakeWorld, kind: str) -> list[dict[str, Any]]:
    return [d for d in world.quotas.documents() if d["docType"] == kind]


def lane_entries(world: FakeWorld) -> list[dict[str, Any]]:
    return [entry for lane in quota_documents(world, "quotaLane") for entry in lane["entries"]]


def status(world: FakeWorld, job: JobDocument, tenant: str = TENANT) -> str:
    return str(world.job_document(tenant, job.id)["status"])


async def test_a_job_beyond_the_quota_waits_queued_with_no_attempt_then_runs_in_its_slot() -> None:
    world = fake_world(**QUOTA)
    jobs = [await submit(world) for _ in range(3)]

    await deliver_all(world)

    assert [status(world, job) for job in jobs] == ["succeeded", "succeeded", "queued"]
    assert len(world.provider.calls) == 2, "the provider never sees the call beyond the quota"
    waiting = world.job_document(TENANT, jobs[2].id)
    assert waiting["attempts"] == 0 and waiting["claim"] is None and waiting["retryCount"] == 0
    assert waiting["quota"]["waits"] == 1 and waiting["notBefore"] is not None
    (back,) = world.job_queue.take()
    assert back.visibility_timeout is not None and 55 <= back.visibility_timeout <= 60
    assert [w["jobId"] for w in quota_documents(world, "quotaWaiter")] == [jobs[2].id]
    assert hold(world, jobs[2].id)["state"] == "held"  # type: ignore[index]
    assert account(world)["reserved"] == 1, "the waiting job's credits stay reserved"

    # A duplicate of the waiting job's message, early: it waits too and calls nobody.
    await process_job(world.ctx, JobMessage(job_id=jobs[2].id, tenant_id=TENANT))
    assert len(world.job_queue.take()) == 1 and len(world.provider.calls) == 2

    await world.clock.advance(WINDOW)
    await process_job(world.ctx, JobMessage(job_id=jobs[2].id, tenant_id=TENANT))

    done = world.job_document(TENANT, jobs[2].id)
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert quota_documents(world, "quotaWaiter") == [], "it left the line"
    assert account(world)["spent"] == 3 and account(world)["reserved"] == 0


async def test_two_deliveries_of_one_job_at_the_same_moment_use_one_slot() -> None:
    world = fake_world(**QUOTA)
    world.jobs.yields = world.quotas.yields = True  # the two deliveries interleave at every call
    job = await submit(world)
    (message,) = deliveries(world)

    await asyncio.gather(process_job(world.ctx, message), process_job(world.ctx, message))
    for put_back in world.job_queue.take():  # the loser's message, back until the claim would lapse
        await process_job(world.ctx, JobMessage.model_validate_json(put_back.content))

    assert status(world, job) == "succeeded"
    assert len(world.provider.calls) == 1
    assert [entry["job"] for entry in lane_entries(world)] == [job.id], "the loser gave its slot back"


async def test_a_429_of_a_model_with_a_quota_slows_it_for_everyone_and_is_no_attempt() -> None:
    world = fake_world(**QUOTA)
    job = await submit(world, webhook="http://127.0.0.1:9/hook", webhookEvents=["running"])
    (message,) = deliveries(world)
    world.provider.script.append(transient_error("Gemini answered 429", retry_after=7, rate_limited=True))
    before = world.clock.time()

    await process_job(world.ctx, message)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "queued" and stored["claim"] is None
    assert stored["attempts"] == 0 and stored["retryCount"] == 0
    assert stored["quota"]["refusals"] == 1 and stored["quota"]["runsGivenBack"] == 1
    assert stored["lastError"]["code"] == "PROVIDER_UNAVAILABLE"
    (back,) = world.job_queue.take()
    assert back.visibility_timeout is not None and back.visibility_timeout >= 7
    (pace,) = quota_documents(world, "quotaPace")
    assert pace["factor"] == 2.0 and pace["blockedUntil"] >= before + 7
    # No call starts before the provider's Retry-After, whoever's job it is.
    await world.clock.advance(1)
    other = await submit(world)
    await deliver_all(world)
    assert status(world, other) == "queued" and len(world.provider.calls) == 1

    await world.clock.advance(WINDOW)
    await process_job(world.ctx, message)

    done = world.job_document(TENANT, job.id)
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert webhooks_sent(world, "running") == 1, "one running event, not one per run"


def test_the_slow_down_recovers_by_itself() -> None:
    pace = QuotaPace(scope=MODEL, factor=4.0, at=1000.0)

    assert current_factor(pace, 1000.0) == 4.0
    assert current_factor(pace, 1120.0) == 2.5  # half its excess after one half-life
    assert current_factor(pace, 1000.0 + 120 * 10) < 1.01
    assert current_factor(None, 1000.0) == 1.0


async def test_a_429_of_a_model_without_a_quota_is_retried_as_before() -> None:
    world = fake_world()
    job = await submit(world)
    world.provider.script.append(transient_error("Gemini answered 429", retry_after=2, rate_limited=True))

    await deliver_all(world)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "queued" and stored["attempts"] == 1 and stored["retryCount"] == 1
    assert stored.get("quota") is None and world.quotas.documents() == []


async def test_a_job_that_waited_past_the_quota_deadline_fails_with_its_own_code_and_is_refunded() -> None:
    world = fake_world(**QUOTA, QUOTA_MAX_WAIT_MINUTES="5")
    jobs = [await submit(world) for _ in range(3)]
    await deliver_all(world)
    late = jobs[2]
    assert status(world, late) == "queued"
    world.job_queue.take()

    def waited_long(doc: dict[str, Any]) -> None:
        doc["quota"]["since"] = iso_utc(utc_now() - timedelta(minutes=6))
        doc["notBefore"] = iso_utc(utc_now())

    world.jobs.poke(TENANT, late.id, waited_long)
    await process_job(world.ctx, JobMessage(job_id=late.id, tenant_id=TENANT))

    stored = world.job_document(TENANT, late.id)
    assert stored["status"] == "failed" and stored["error"]["code"] == "QUOTA_TIMEOUT"
    assert "PROVIDER_QUOTAS" in stored["error"]["message"] and MODEL in stored["error"]["message"]
    assert hold(world, late.id)["state"] == "refunded"  # type: ignore[index]
    assert quota_documents(world, "quotaWaiter") == []


async def test_time_spent_waiting_for_the_quota_does_not_count_against_the_job_deadline() -> None:
    world = fake_world(**QUOTA, JOB_DEADLINE_MINUTES="60", QUOTA_MAX_WAIT_MINUTES="60")
    jobs = [await submit(world) for _ in range(3)]
    await deliver_all(world)
    world.job_queue.take()
    # Submitted 70 minutes ago and waiting for the quota since: past the job deadline, not the quota's.
    world.jobs.poke(
        TENANT, jobs[2].id, lambda d: d.update(createdAt=iso_utc(utc_now() - timedelta(minutes=70)))
    )
    await world.clock.advance(WINDOW)

    await process_job(world.ctx, JobMessage(job_id=jobs[2].id, tenant_id=TENANT))

    assert status(world, jobs[2]) == "succeeded"


async def test_the_line_is_round_robin_across_tenants_and_is_the_queue_position() -> None:
    world = fake_world(**QUOTA)
    burst = []
    for _ in range(5):
        burst.append(await submit(world))
        await world.clock.advance(0.002)  # distinct submission times (milliseconds as stored): a known order
    other = await submit_generation(
        world.ctx, "tenant-b", GenerationRequest.model_validate({"prompt": "a blue square"})
    )
    await deliver_all(world)  # two of the burst take the two slots; the rest wait
    world.job_queue.take()
    waiting = [burst[2], other, burst[3], burst[4]]

    places = []
    for job in waiting:
        stored = JobDocument.model_validate(world.job_document(job.tenant_id, job.id))
        view = await job_view(world.ctx, stored, status_url="https://api.example/status")
        places.append((view.queue_position, view.estimated_start_at))

    # The burst had both slots of this window: tenant b's one job is next, not fifth.
    assert [position for position, _ in places] == [1, 0, 2, 3]
    by_position = [start for _, start in sorted(places, key=lambda place: place[0] or 0)]
    assert None not in by_position and by_position == sorted(by_position)  # type: ignore[type-var]
    assert places[1][1] is not None and places[1][1] - utc_now() < timedelta(seconds=70)

    # The window passes and every waiting message comes back, the burst's first: tenant b's job still
    # takes the second slot.
    await world.clock.advance(WINDOW)
    for job in [burst[2], burst[3], burst[4], other]:
        await process_job(world.ctx, JobMessage(job_id=job.id, tenant_id=job.tenant_id))

    assert status(world, other, "tenant-b") == "succeeded" and status(world, burst[2]) == "succeeded"
    assert status(world, burst[3]) == "queued" and status(world, burst[4]) == "queued"


async def test_a_job_not_yet_delivered_is_placed_where_it_would_join_the_line() -> None:
    world = fake_world(**QUOTA)
    for _ in range(3):
        await submit(world)
    await deliver_all(world)
    await world.clock.advance(1)
    newcomer = await submit(world)

    view = await job_view(world.ctx, newcomer, status_url="https://api.example/status")

    assert view.queue_position == 1 and view.estimated_start_at is not None


async def test_jobs_of_models_without_a_quota_show_no_place_and_the_usual_retry_after() -> None:
    world = fake_world(**QUOTA)
    job = await submit(world, model="gemini-2.5-flash-image")
    other_model = fake_world()
    plain = await submit(other_model)

    assert (await job_view(other_model.ctx, plain, status_url="x")).queue_position is None
    assert (await job_view(world.ctx, job, status_url="x")).queue_position == 0
    settings = world.ctx.settings
    assert status_retry_after(settings, None) == settings.status_retry_after_seconds
    assert status_retry_after(settings, utc_now() + timedelta(seconds=30)) in (29, 30)
    assert status_retry_after(settings, utc_now() + timedelta(minutes=10)) == 60
    assert status_retry_after(settings, utc_now()) == settings.status_retry_after_seconds


async def test_a_run_whose_slot_passed_while_it_prepared_takes_a_fresh_one() -> None:
    world = fake_world(**QUOTA)
    job = await submit(world)
    (message,) = deliveries(world)
    before = world.clock.time()
    lanes_written: dict[str, list[dict[str, Any]]] = {}
    slots_held: list[int] = []  # the job's entries on all lanes after each lane write

    def record_lanes(item_id: str, body: dict[str, Any]) -> None:
        if body.get("docType") == "quotaLane":
            lanes_written[item_id] = body["entries"]
            slots_held.append(sum(e["job"] == job.id for entries in lanes_written.values() for e in entries))

    # Between its claim and its call the run stalls for 5 s: its slot has passed when it is about to call.
    def stall_after_the_claim(item_id: str, body: dict[str, Any]) -> None:
        if body.get("status") == "running":
            world.jobs.before_write = None
            world.clock.stall(5)

    world.jobs.before_write = stall_after_the_claim
    world.quotas.before_write = record_lanes
    await process_job(world.ctx, message)

    assert status(world, job) == "succeeded"
    (entry,) = lane_entries(world)
    assert entry["at"] >= before + 5, "the passed slot was exchanged for a fresh one"
    assert slots_held[0] == 1 and min(slots_held) >= 1, (
        "no lane showed the passed slot free before the fresh one was taken"
    )


async def test_a_job_larger_than_its_models_quota_admits_at_once_is_refused_at_submit() -> None:
    world = fake_world(PROVIDER_QUOTAS=f"{MODEL}=rpm:10;ipm:3")

    with pytest.raises(ApiError) as refused:
        await submit(world, n=4)

    assert refused.value.status == 400 and "ask for at most 3" in refused.value.message
    assert world.jobs.documents() == [] and world.credits.documents() == []
    assert (await submit(world, n=3)).spec.n == 3


async def test_a_model_with_concurrent_calls_declared_gives_back_a_job_while_its_calls_are_busy() -> None:
    world = fake_world(PROVIDER_QUOTAS=f"{MODEL}=rpm:10;concurrent:1")
    first, second = await submit(world), await submit(world)
    messages = deliveries(world)
    gate = Gate()
    world.provider.script.append(gate)
    running = asyncio.create_task(process_job(world.ctx, messages[0]))
    await gate.entered.wait()

    await process_job(world.ctx, messages[1])  # the one call is busy

    waiting = world.job_document(TENANT, second.id)
    assert waiting["status"] == "queued" and waiting["attempts"] == 0
    assert waiting["quota"]["runsGivenBack"] == 1 and waiting["quota"]["refusals"] == 0
    (back,) = world.job_queue.take()
    assert back.visibility_timeout is not None and 2 <= back.visibility_timeout <= 3
    assert [entry["job"] for entry in lane_entries(world)] == [first.id], "its slot was given back"
    gate.release.set()
    await running
    assert quota_documents(world, "quotaLease") == [], "the first call's lease is released"

    world.jobs.poke(TENANT, second.id, lambda d: d.update(notBefore=iso_utc(utc_now())))
    await process_job(world.ctx, messages[1])
    done = world.job_document(TENANT, second.id)
    assert done["status"] == "succeeded" and done["attempts"] == 1


async def test_a_run_waits_on_the_clock_for_its_reserved_slot_before_calling() -> None:
    world = fake_world(PROVIDER_QUOTAS=f"{MODEL}=rpm:60;burst:1")  # evenly paced: a call a second or so
    first, second = await submit(world), await submit(world)
    messages = deliveries(world)
    await process_job(world.ctx, messages[0])
    assert status(world, first) == "succeeded"

    run = asyncio.create_task(process_job(world.ctx, messages[1]))
    await world.clock.advance(0.5)
    assert not run.done() and len(world.provider.calls) == 1, "its slot is a second after the first call"
    assert status(world, second) == "running"

    await world.clock.advance(1)
    await asyncio.wait_for(run, timeout=5)
    assert status(world, second) == "succeeded" and len(world.provider.calls) == 2
    first_at, second_at = sorted(entry["at"] for entry in lane_entries(world))
    assert 1 <= second_at - first_at <= 1.5


async def test_a_waiting_jobs_estimate_is_not_read_from_a_snapshot_older_than_the_slots_taken() -> None:
    world = fake_world(**QUOTA)
    jobs = [await submit(world) for _ in range(3)]
    before = await job_view(world.ctx, jobs[2], status_url="x")  # the process now holds a snapshot
    await world.clock.advance(0.5)  # well within the snapshot's age limit
    await deliver_all(world)  # meanwhile the first two take both slots of the window

    stored = JobDocument.model_validate(world.job_document(TENANT, jobs[2].id))
    after = await job_view(world.ctx, stored, status_url="x")

    assert before.estimated_start_at is not None and before.estimated_start_at - utc_now() < timedelta(
        seconds=5
    )
    assert after.queue_position == 0 and after.estimated_start_at is not None
    assert timedelta(seconds=55) < after.estimated_start_at - utc_now() < timedelta(seconds=65)
