"""A webhook receiver that keeps failing, on the clock: each retry delivered when its back-off is over,
to a receiver in the test's own event loop, until the delivery is given up; the job never changes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from shared.models.webhooks import WebhookMessage
from shared.webhooks.delivery import process_delivery
from tests.fakes.context import FakeWorld, fake_world
from tests.unit.test_job_core import TENANT, deliver_all, submit


@pytest.fixture
async def failing_receiver() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A receiver's URL that answers every delivery 500, and the bodies it received."""
    received: list[bytes] = []

    async def answer(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=500)

    app = web.Application()
    app.router.add_post("/hook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook", received
    finally:
        await runner.cleanup()


async def deliver_webhooks_when_due(world: FakeWorld, *, most: int = 20) -> list[float]:
    """Run every webhook delivery once its visibility delay is over; when each ran, on the clock."""
    ran_at: list[float] = []
    for _ in range(most):
        sent = world.webhook_queue.take()
        if not sent:
            return ran_at
        for message in sorted(sent, key=lambda m: m.visible_at):
            await world.clock.advance(max(0.0, message.visible_at - world.clock.time()))
            ran_at.append(world.clock.time())
            await process_delivery(world.ctx, WebhookMessage.model_validate_json(message.content))
    raise AssertionError(f"deliveries still coming after {most}")


async def test_a_receiver_that_keeps_failing_is_given_up(
    failing_receiver: tuple[str, list[bytes]],
) -> None:
    url, received = failing_receiver
    world = fake_world(
        WEBHOOK_MAX_ATTEMPTS="3", WEBHOOK_RETRY_BASE_SECONDS="1", WEBHOOK_RETRY_MAX_SECONDS="2"
    )
    job = await submit(world, webhook=url)
    await deliver_all(world)
    done = world.job_document(TENANT, job.id)

    ran_at = await deliver_webhooks_when_due(world)

    assert len(received) == 3 and len(ran_at) == 3
    assert received[0] == received[2], "the event as it happened, not re-read"
    assert all(1 <= later - earlier <= 2 for earlier, later in zip(ran_at, ran_at[1:], strict=False))
    assert world.webhook_queue.sent == [], "given up: nothing more queued"
    after = world.job_document(TENANT, job.id)
    assert after["status"] == done["status"] == "succeeded"
    assert after["_etag"] == done["_etag"], "the deliveries never changed the job"
