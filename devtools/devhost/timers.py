"""Timer triggers: NCRONTAB (six fields, seconds first) or TimeSpan schedules, and runOnStartup."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from croniter import croniter

from devtools.devhost.config import parse_timespan
from devtools.devhost.trigger_data import timer_trigger
from devtools.devhost.worker import FunctionSpec, InvocationFailed, Worker

logger = logging.getLogger("devhost")

# An occurrence that starts this late is reported as past due.
PAST_DUE_AFTER = timedelta(seconds=5)
MINUTE = timedelta(minutes=1)


class Schedule:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._interval: timedelta | None = None
        if ":" in expression and " " not in expression.strip():
            self._interval = timedelta(seconds=parse_timespan(expression))
        elif not croniter.is_valid(expression, second_at_beginning=True):
            raise ValueError(f"invalid timer schedule {expression!r}")

    def interval(self) -> timedelta:
        """The time between two occurrences (the first two from now, for NCRONTAB)."""
        first = self.next_after(datetime.now(UTC))
        return self.next_after(first) - first

    def next_after(self, moment: datetime) -> datetime:
        if self._interval is not None:
            return moment + self._interval
        following: datetime = croniter(self.expression, moment, second_at_beginning=True).get_next(datetime)
        return following


class TimerRunner:
    def __init__(self, function: FunctionSpec, worker: Worker, schedule: str) -> None:
        self.function = function
        self._worker = worker
        self._schedule = Schedule(schedule)
        # The host monitors a schedule unless told otherwise, except one that recurs more often than a minute.
        monitor = function.trigger.get("useMonitor")
        self._use_monitor = bool(monitor) if monitor is not None else self._schedule.interval() >= MINUTE
        self._last: datetime | None = None
        self._next: datetime | None = None

    async def run(self) -> None:
        if self.function.trigger.get("runOnStartup"):
            await self._fire(past_due=False, reason="RunOnStartup")
        due = self._schedule.next_after(datetime.now(UTC))
        while True:
            self._next = due
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            late = datetime.now(UTC) - due > PAST_DUE_AFTER
            self._next = self._schedule.next_after(max(due, datetime.now(UTC)))
            await self._fire(past_due=late, reason=f"Timer fired at {due.isoformat()}")
            self._last = due
            due = self._next

    async def fire_now(self) -> None:
        await self._fire(past_due=False, reason="Manually triggered")

    async def _fire(self, *, past_due: bool, reason: str) -> None:
        status = None
        if self._use_monitor:
            now = datetime.now(UTC)
            status = {
                "Last": self._last or datetime.min.replace(tzinfo=UTC),
                "Next": self._next or self._schedule.next_after(now),
                "LastUpdated": now,
            }
        trigger, metadata = timer_trigger(past_due=past_due, adjust_for_dst=True, status=status)
        try:
            await self._worker.invoke(self.function, trigger, trigger_metadata=metadata, reason=reason)
        except InvocationFailed:
            pass  # already logged by the worker; a failed occurrence does not stop the schedule
