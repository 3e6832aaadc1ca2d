"""The model of the Functions host's queue listener the throughput bench sets its runs against (a batch of
`batchSize` messages whenever at most `newBatchThreshold` invocations still run; the dev host's own
fetching, which follows the same rule, is checked in tests/devhost/test_triggers.py), and the invocation
durations it reads from the dev host's log to apply it to."""

from __future__ import annotations

import asyncio

import pytest

from bench.invocation_phases import invocation_durations
from bench.job_cost import listener_bound, spread_listener_bound
from bench.minimal_pipeline import fetched_in_order, in_listener_batches


def test_invocations_ending_together_run_one_batch_at_a_time() -> None:
    # 200 jobs of exactly 2 s, batches of 16 fetched at 8 or fewer: 13 batches one after another.
    assert listener_bound([2.0] * 200, 16, 8) == pytest.approx(200 / 26)
    assert listener_bound([2.0] * 10_000, 16, 8) == pytest.approx(8.0)


def test_each_invocation_takes_its_own_latency_in_fetch_order() -> None:
    # Batches of 2 at most 1 running: [1, 3] at 0; at 1 one runs, so [1, 1] (end at 2); at 2 [2] (ends
    # at 4); the 3 s one ends at 3, the last at 4.
    assert listener_bound([1.0, 3.0, 1.0, 1.0, 2.0], 2, 1) == pytest.approx(5 / 4)
    # The same jobs in another order: [3, 1] at 0; at 1 [1, 1]; at 2 [2] (ends at 4), the 3 s at 3.
    assert listener_bound([3.0, 1.0, 1.0, 1.0, 2.0], 2, 1) == pytest.approx(5 / 4)
    # Their mean, exactly, for every job: three batches one after another.
    assert listener_bound([1.6] * 5, 2, 1) == pytest.approx(5 / 4.8)


def test_a_distribution_bound_is_the_mean_over_seeded_draws() -> None:
    fixed = listener_bound([2.0] * 200, 16, 8)

    unspread = spread_listener_bound(200, 2000, 0, 16, 8, samples=20)
    spread = spread_listener_bound(200, 2000, 1000, 16, 8, samples=100)

    assert unspread == (pytest.approx(fixed), 0.0)
    assert spread == spread_listener_bound(200, 2000, 1000, 16, 8, samples=100)  # seeded: it repeats
    mean, deviation = spread
    # Latencies of 1 to 3 s leave the bound where exactly 2 s put it (the draws move one run's by a few %).
    assert mean == pytest.approx(fixed, rel=0.02)
    assert 0 < deviation < 0.1 * mean


def test_invocation_durations_come_in_the_order_the_invocations_started() -> None:
    log = "\n".join(
        [
            "2026-12-01 21:13:44,988 INFO devhost: Executing 'Functions.generation_worker' "
            "(Reason='New queue message detected on 'generation-jobs'.', Id=first)",
            "2026-12-01 21:13:44,989 INFO devhost: Executing 'Functions.generation_worker' "
            "(Reason='New queue message detected on 'generation-jobs'.', Id=second)",
            "2026-12-01 21:13:46,100 INFO devhost: Executed 'Functions.generation_worker' "
            "(Succeeded, Id=second, Duration=1111ms)",
            "2026-12-01 21:13:47,300 INFO devhost: Executed 'Functions.generation_worker' "
            "(Succeeded, Id=first, Duration=2312ms)",
        ]
    )

    assert invocation_durations(log, 2) == [2.312, 1.111]
    assert invocation_durations(log, 1) == [1.111]  # the last ones: a run's warm-up comes first


async def test_the_minimal_pipelines_ceiling_starts_its_jobs_by_the_listeners_rule() -> None:
    started: list[int] = []
    release = {i: asyncio.Event() for i in range(40)}

    async def job(index: int) -> None:
        started.append(index)
        await release[index].wait()

    async def settle() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    jobs = fetched_in_order([job(index) for index in range(40)])
    running = asyncio.create_task(in_listener_batches(40, 16, 8, jobs))
    await settle()
    assert started == list(range(16))
    for index in range(7):  # 9 still run: more than the threshold
        release[index].set()
    await settle()
    assert started == list(range(16))
    release[7].set()  # 8 run: the next batch of 16 starts
    await settle()
    assert started == list(range(32))
    for index in range(8, 32):
        release[index].set()
    await settle()
    assert started == list(range(40))  # the last, short batch
    for index in range(32, 40):
        release[index].set()
    await asyncio.wait_for(running, 1)
