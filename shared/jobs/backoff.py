"""How long a job waits before its next provider attempt."""

from __future__ import annotations

import math
import random


def retry_delay_seconds(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> int:
    """Exponential back-off with jitter for the retry after `attempt` (1-based) failed attempts.

    The delay is drawn from the upper half of `base * 2**(attempt-1)` (so retries spread out but never
    collapse to zero), never below the provider's Retry-After, never above `cap`; whole seconds, since
    that is what a queue message's visibility delay takes.
    """
    exponential = base * (2 ** max(0, attempt - 1))
    jittered = exponential * (0.5 + 0.5 * (rng or random).random())
    delay = max(jittered, retry_after or 0.0)
    return math.ceil(min(delay, cap))
