"""Shared counters under concurrent callers: one key's rate-limit window and one tenant's credit account.

The fake container gives the event loop a turn at every call (`yields`), as a network call does, so the
concurrent tasks interleave between each other's calls; the counts must still be exact, and each request
must cost a bounded number of calls (no retry storm on one document).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from shared.credits.store import CreditStore, Short
from shared.models.credits import BALANCE_DOCUMENT_ID
from shared.ratelimit import RateLimiter, counter_id
from tests.fakes.cosmos import FakeContainer

CALLERS = 200


async def test_one_keys_concurrent_requests_are_counted_exactly_without_retrying_on_each_other() -> None:
    container = FakeContainer(partition_key="id")
    container.yields = True
    limiter = RateLimiter(cast(Any, container), window_seconds=3600)

    states = await asyncio.gather(*(limiter.hit("key:hot", 150) for _ in range(CALLERS)))

    assert sum(state.allowed for state in states) == 150
    (window,) = container.documents()
    assert window["count"] == 150, "refused requests are not counted"
    assert sorted(state.remaining for state in states if state.allowed) == list(range(150))
    # The window's first requests find no document (and one creates it); after that one patch each.
    assert container.calls["patch_item"] <= 2 * CALLERS and container.calls["create_item"] <= CALLERS
    assert container.calls["replace_item"] == 0 and container.calls["read_item"] == 0

    calls_before = sum(container.calls.values())
    later = await asyncio.gather(*(limiter.hit("key:hot", 150) for _ in range(50)))

    assert not any(state.allowed for state in later)
    assert sum(container.calls.values()) == calls_before, "a window found full is refused locally"
    assert window["id"] == counter_id("key:hot", window["windowStart"])


async def test_concurrent_reservations_never_overdraw_the_account_and_each_settles_exactly_once() -> None:
    container = FakeContainer()
    container.yields = True
    credits = CreditStore(cast(Any, container), initial_balance=60)

    outcomes = await asyncio.gather(*(credits.hold("hot", f"job-{i}", 1) for i in range(CALLERS)))

    reserved = [f"job-{i}" for i, outcome in enumerate(outcomes) if outcome == "reserved"]
    assert len(reserved) == 60
    assert all(isinstance(outcome, Short) for outcome in outcomes if outcome != "reserved")
    account = await credits.get("hot")
    assert (account.balance, account.reserved, account.spent) == (60, 60, 0)
    assert container.calls["replace_item"] == 0, "no read-modify-replace of the account"

    # Every job settled twice at once (a redelivery racing the first settlement): one of each counts.
    settled = await asyncio.gather(
        *(credits.settle("hot", job_id, charge=True, keep_seconds=60) for job_id in reserved * 2)
    )

    assert sorted(settled) == [0] * 60 + [1] * 60
    account = await credits.get("hot")
    assert (account.balance, account.reserved, account.spent) == (0, 0, 60)
    stored = next(d for d in container.documents() if d["id"] == BALANCE_DOCUMENT_ID)
    assert stored["openReservations"] == 0
    holds = [d for d in container.documents() if d["id"] != BALANCE_DOCUMENT_ID]
    assert len(holds) == 60 and {h["state"] for h in holds} == {"charged"}
