"""The declared quotas (PROVIDER_QUOTAS), their split into lanes, and when a lane admits a call: the
arithmetic that keeps every minute within the quota, and the simulator's own count of it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from devtools.simulator.state import ModelQuota as SimulatorQuota
from devtools.simulator.state import SimulatorState
from shared.models.quotas import LaneEntry, QuotaLane, QuotaWaiter
from shared.scheduling.limits import LaneShare, ModelLimits, lane_count, lane_shares
from shared.scheduling.plan import (
    WINDOW_MARGIN,
    WINDOW_SECONDS,
    ModelQuota,
    Snapshot,
    earliest_start,
    estimated_starts,
    fair_order,
)
from shared.settings import Settings

WINDOW = WINDOW_SECONDS + WINDOW_MARGIN


def test_quotas_are_read_per_model_from_the_flat_setting() -> None:
    settings = Settings(
        COSMOS_ENDPOINT="https://x",
        PROVIDER_QUOTAS="gemini/gemini-2.5-flash-image=rpm:30;ipm:60, "
        "azure-openai/gpt-image-1=rpm:6;burst:1;concurrent:2",
    )

    assert settings.provider_quotas == {
        "gemini/gemini-2.5-flash-image": ModelLimits(requests_per_minute=30, images_per_minute=60),
        "azure-openai/gpt-image-1": ModelLimits(requests_per_minute=6, concurrent=2, burst=1),
    }
    assert Settings(COSMOS_ENDPOINT="https://x").provider_quotas == {}


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("gemini=rpm:3", "expected provider/model="),
        ("gemini/m=rpm:3;tpm:9", "unknown limit 'tpm:9'"),
        ("gemini/m=rpm:0", "rpm must be a whole number >= 1"),
        ("gemini/m=concurrent:2", "give rpm or ipm"),
    ],
)
def test_a_quota_that_cannot_be_read_names_the_setting_and_the_entry(value: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match="PROVIDER_QUOTAS") as refused:
        Settings(COSMOS_ENDPOINT="https://x", PROVIDER_QUOTAS=value)
    assert complaint in str(refused.value)


def test_lanes_share_exactly_the_declared_quota() -> None:
    limits = ModelLimits(requests_per_minute=30, images_per_minute=100)
    lanes = lane_count(limits, max_images_per_job=4)
    shares = lane_shares(limits, lanes)

    assert lanes == 25, "no lane gets fewer images than the largest job"
    assert sum(s.requests or 0 for s in shares) == 30 and sum(s.images or 0 for s in shares) == 100
    assert all((s.images or 0) >= 4 for s in shares)
    assert lane_count(ModelLimits(requests_per_minute=6, burst=1), 4) == 1
    assert lane_count(ModelLimits(requests_per_minute=1000), 4) == 64
    # A model that makes one call per image (Gemini): no lane gets fewer calls than the largest job.
    assert lane_count(ModelLimits(requests_per_minute=30), 4, max_calls_per_job=4) == 7


def test_a_lane_admits_its_share_of_calls_and_images_in_any_window() -> None:
    share = LaneShare(requests=2, images=3)
    entries = [LaneEntry(at=100.0, images=1, job="a"), LaneEntry(at=110.0, images=2, job="b")]

    assert earliest_start([], share, 1, 1, 100.0, WINDOW) == 100.0
    # Two calls in the window: the next waits until the first leaves it.
    assert earliest_start(entries, share, 1, 1, 120.0, WINDOW) == 100.0 + WINDOW
    # Images: 3 of 3 are used; a 2-image call waits until the 2-image call leaves too.
    images_only = LaneShare(requests=None, images=3)
    assert earliest_start(entries[:1], images_only, 1, 3, 101.0, WINDOW) == 100.0 + WINDOW
    assert earliest_start(entries, images_only, 1, 2, 120.0, WINDOW) == 110.0 + WINDOW
    # A job of two calls (Gemini, two images) needs both of the lane's calls.
    assert (
        earliest_start(entries[:1], LaneShare(requests=2, images=None), 2, 2, 101.0, WINDOW) == 100.0 + WINDOW
    )
    assert earliest_start([], share, 1, 4, 100.0, WINDOW) is None, "larger than the lane: never"
    assert earliest_start([], share, 3, 1, 100.0, WINDOW) is None


def test_lanes_never_admit_more_than_the_quota_in_any_minute() -> None:
    """Reserve greedily from 30 lanes of a 30/min quota for 10 minutes at random moments; then no 60-s
    window holds more than 30 starts, even with every start up to the slot grace late."""
    limits = ModelLimits(requests_per_minute=30)
    shares = lane_shares(limits, lane_count(limits, 4))
    lanes: list[list[LaneEntry]] = [[] for _ in shares]
    rng = random.Random(7)
    starts: list[float] = []
    now = 0.0
    while now < 600:
        now += rng.expovariate(2.0)
        for index, share in enumerate(shares):
            moment = earliest_start(lanes[index], share, 1, 1, now, WINDOW)
            if moment is not None and moment <= now:
                lanes[index].append(LaneEntry(at=moment, images=1, job=str(now)))
                starts.append(moment + rng.uniform(0, 0.5))
                break
    starts.sort()
    busiest = max(sum(1 for t in starts if s <= t < s + 60) for s in starts)

    assert busiest == 30
    assert len(starts) >= 9 * 30, "and the quota is used"


def _waiter(job: str, tenant: str, minute: int) -> QuotaWaiter:
    return QuotaWaiter(
        id=f"waiter-{job}",
        scope="p/m",
        job_id=job,
        tenant_id=tenant,
        created_at=datetime(2026, 1, 1, 0, minute, tzinfo=UTC),
        images=1,
        due_at=0.0,
        ttl=60,
    )


def test_the_line_gives_each_waiting_tenant_its_turn_and_counts_what_it_was_served() -> None:
    burst = [_waiter(f"a{i}", "a", i) for i in range(4)]
    late = _waiter("b0", "b", 30)

    assert [w.job_id for w in fair_order([*burst, late])] == ["a0", "b0", "a1", "a2", "a3"]
    served = {"a": 3}
    assert [w.job_id for w in fair_order([*burst, late], served)][0] == "b0"  # type: ignore[arg-type]


def test_estimated_starts_follow_the_lanes_and_the_line() -> None:
    limits = ModelLimits(requests_per_minute=2)
    quota = ModelQuota(scope="p/m", limits=limits, shares=tuple(lane_shares(limits, 2)))
    busy = {
        0: QuotaLane(id="lane-0", scope="p/m", entries=[LaneEntry(at=1000.0, images=1, job="x")]),
        1: QuotaLane(id="lane-1", scope="p/m", entries=[LaneEntry(at=1010.0, images=1, job="y")]),
    }
    snapshot = Snapshot(read_at=1020.0, lanes=busy)
    line = [_waiter(f"j{i}", "a", i) for i in range(5)]

    starts = estimated_starts(snapshot, quota, line, 1020.0)

    assert starts == [1000 + WINDOW, 1010 + WINDOW, 1000 + 2 * WINDOW, 1010 + 2 * WINDOW, 1000 + 3 * WINDOW]


def test_the_simulator_counts_requests_and_images_in_any_60_seconds() -> None:
    state = SimulatorState(
        model_quotas={"gpt-image-1": SimulatorQuota(requests_per_minute=3, images_per_minute=4)}
    )

    assert state.quota_wait("azure-openai", "gpt-image-1", 2) is None
    assert state.quota_wait("azure-openai", "gpt-image-1", 2) is None
    refused = state.quota_wait("azure-openai", "gpt-image-1", 1)
    assert refused is not None and 59 < refused <= 60, "four images used"
    assert state.quota_wait("gemini", "gemini-2.5-flash-image", 1) is None, "other models are unlimited"
    assert timedelta(seconds=refused) <= timedelta(minutes=1)


def test_a_declared_burst_paces_the_rest_of_the_minute_evenly() -> None:
    limits = ModelLimits(requests_per_minute=6, burst=1)
    (share,) = lane_shares(limits, lane_count(limits, 4))
    entries = [LaneEntry(at=100.0, images=1, job="a")]

    assert share.paced and share.requests == 6
    assert earliest_start(entries, share, 1, 1, 100.0, WINDOW) == 100.0 + WINDOW / 6
    unpaced = lane_shares(ModelLimits(requests_per_minute=6), 1)[0]
    assert earliest_start(entries, unpaced, 1, 1, 100.0, WINDOW) == 100.0, "a sliding minute: at once"
