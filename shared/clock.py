"""The application's one source of time: what "now" is, and sleeping until later.

Everything that stamps, compares or waits on time (job writes, claims and their renewals, back-offs,
sweeps, quota slots and windows, credits, rate-limit windows) reads it here, so that a test can put in a
clock it moves by hand (`use_clock`) and step through a claim's lapse or a quota window instead of
waiting it out. Production never changes it: the system clock is the default.
"""

from __future__ import annotations

import asyncio
import time as system_time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for measuring how long something took."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return system_time.time()

    def monotonic(self) -> float:
        return system_time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


_clock: Clock = SystemClock()


def use_clock(clock: Clock) -> Clock:
    """Make `clock` the one everything reads; returns the one it replaces."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def time() -> float:
    return _clock.time()


def monotonic() -> float:
    return _clock.monotonic()


async def sleep(seconds: float) -> None:
    await _clock.sleep(seconds)
