"""The queue listener's polling delay: the host's randomized exponential back-off."""

from __future__ import annotations

import random

from devtools.devhost.queues import RandomizedBackoff


def test_empty_polls_back_off_exponentially_with_jitter_up_to_the_maximum() -> None:
    backoff = RandomizedBackoff(0.1, 2.0, rng=random.Random(7))

    delays = [backoff.next_delay(found_messages=False) for _ in range(8)]

    assert delays[0] == 0.1
    # minimum + r * 2**(n-1) * minimum, with r in [0.8, 1.2]
    for n, delay in enumerate(delays[1:5], start=1):
        assert 0.1 + 0.8 * 2 ** (n - 1) * 0.1 <= delay <= 0.1 + 1.2 * 2 ** (n - 1) * 0.1
    assert delays[-1] == 2.0
    assert delays == sorted(delays)


def test_the_delays_are_randomized() -> None:
    backoffs = [RandomizedBackoff(0.1, 60.0, rng=random.Random(seed)) for seed in range(5)]

    runs = [[backoff.next_delay(False) for _ in range(3)][-1] for backoff in backoffs]

    assert len(set(runs)) == 5


def test_finding_messages_resets_the_delay_to_the_minimum() -> None:
    backoff = RandomizedBackoff(0.1, 2.0, rng=random.Random(1))
    for _ in range(6):
        backoff.next_delay(found_messages=False)

    assert backoff.next_delay(found_messages=True) == 0.1
    assert 0.18 <= backoff.next_delay(found_messages=False) <= 0.22
