"""A clock that moves only when a test moves it (`advance`), for the application's `shared.clock`."""

from __future__ import annotations

import asyncio
import time

# Loop turns given to woken sleepers at each step of `advance`: on the in-memory fakes a woken task
# reaches its next sleep (or its end) within a few.
_TURNS_PER_WAKE = 20


class FakeClock:
    """Starts at the real time, on a whole second (so that a moment read as a datetime and as seconds is
    the same number); `sleep` returns once `advance` has moved the clock past its end."""

    def __init__(self, start: float | None = None) -> None:
        self._now = float(int(time.time())) if start is None else start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        sleeper = (self._now + seconds, asyncio.get_running_loop().create_future())
        self._sleepers.append(sleeper)
        try:
            await sleeper[1]
        finally:
            self._sleepers.remove(sleeper)

    @property
    def sleepers(self) -> int:
        """How many tasks are asleep on this clock."""
        return len(self._sleepers)

    def stall(self, seconds: float) -> None:
        """Time passes while the calling code holds the event loop (a process that stalls): the clock
        jumps on at once and the sleepers due meanwhile wake at the loop's next turn."""
        self._now += seconds
        for moment, future in self._sleepers:
            if moment <= self._now and not future.done():
                future.set_result(None)

    async def advance(self, seconds: float) -> None:
        """Move time on by `seconds`: every sleeper due meanwhile wakes at its own moment, in order, and
        runs until it sleeps again or ends before time moves further."""
        end = self._now + seconds
        while due := [s for s in self._sleepers if s[0] <= end and not s[1].done()]:
            moment, future = min(due, key=lambda sleeper: sleeper[0])
            self._now = max(self._now, moment)
            future.set_result(None)
            await turns()
        self._now = end
        await turns()


async def turns(count: int = _TURNS_PER_WAKE) -> None:
    """Let the event loop run other ready tasks `count` times."""
    for _ in range(count):
        await asyncio.sleep(0)
