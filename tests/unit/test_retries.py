"""Transient provider failures on the clock: back-off, the provider's Retry-After and its cap, and the end
of the attempts; each message delivered when its visibility delay is over, without waiting for it."""

from __future__ import annotations

from shared.providers.base import transient_error
from tests.fakes.context import fake_world
from tests.unit.test_job_core import TENANT, account, deliver_all, deliver_when_due, submit


async def test_a_provider_that_stays_down_ends_the_job_provider_unavailable() -> None:
    world = fake_world()
    world.provider.script.extend(transient_error("Gemini answered 503") for _ in range(10))
    job = await submit(world)

    await deliver_when_due(world)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "failed" and stored["error"]["code"] == "PROVIDER_UNAVAILABLE"
    assert "after 3 attempts" in stored["error"]["message"]
    assert stored["retryCount"] == 2
    assert len(world.provider.calls) == 3  # PROVIDER_MAX_ATTEMPTS
    first, second, third = world.provider.called_at
    assert 1 <= second - first <= 5 and 1 <= third - second <= 5, "back-off within RETRY_MAX_SECONDS"
    assert account(world)["spent"] == 0 and account(world)["reserved"] == 0


async def test_retry_after_from_a_429_is_honoured() -> None:
    world = fake_world()
    world.provider.script.append(
        transient_error("Azure OpenAI answered 429", retry_after=3, rate_limited=True)
    )
    job = await submit(world)

    await deliver_when_due(world)

    stored = world.job_document(TENANT, job.id)
    assert stored["status"] == "succeeded" and stored["retryCount"] == 1
    first, second = world.provider.called_at
    assert second - first >= 3.0


async def test_a_job_over_quota_waits_for_retry_after_capped_at_the_longest_back_off() -> None:
    # A provider quota's 429 asks for about a minute; RETRY_MAX_SECONDS (5) caps the wait.
    world = fake_world()
    world.provider.script.append(
        transient_error("Azure OpenAI answered 429", retry_after=58, rate_limited=True)
    )
    job = await submit(world)

    await deliver_all(world)

    view = world.job_document(TENANT, job.id)
    assert view["status"] == "queued" and view["retryCount"] == 1
    assert len(world.provider.calls) == 1
    (retry,) = world.job_queue.sent
    assert retry.visibility_timeout == 5
    await deliver_when_due(world)
    assert world.job_document(TENANT, job.id)["status"] == "succeeded"
    first, second = world.provider.called_at
    assert 5 <= second - first < 58
