from __future__ import annotations

import random

from shared.jobs.backoff import retry_delay_seconds


def test_delay_grows_exponentially_within_the_jitter_band() -> None:
    rng = random.Random(7)
    for attempt, (low, high) in {1: (1, 2), 2: (2, 4), 3: (4, 8), 4: (8, 16)}.items():
        for _ in range(50):
            assert low <= retry_delay_seconds(attempt, base=2, cap=600, rng=rng) <= high


def test_retry_after_is_a_floor_and_the_cap_a_ceiling() -> None:
    assert retry_delay_seconds(1, base=1, cap=600, retry_after=30) == 30
    assert retry_delay_seconds(10, base=2, cap=60) == 60
    assert retry_delay_seconds(1, base=1, cap=60, retry_after=500) == 60


def test_delay_is_whole_seconds() -> None:
    assert isinstance(retry_delay_seconds(1, base=0.3, cap=10), int)
    assert retry_delay_seconds(1, base=0.3, cap=10) == 1
