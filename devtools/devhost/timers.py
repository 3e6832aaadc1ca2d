"""Timer triggers: NCRONTAB (six fields, seconds first) or TimeSpan schedules, and runOnStartup."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest
from croniter import croniter

from devtools.devhost.config import parse_timespan
from devtools.devhost.invoker import FunctionSpec, Invoker

logger = logging.getLogger("devhost")

# An occurrence that starts this late is reported as past due.
PAST_DUE_AFTER = timedelta(seconds=5)


class Schedule:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._interval: timedelta | None = None
        if ":" in expression and " " not in expression.strip():
            self._interval = timedelta(seconds=parse_timespan(expression))
        elif not croniter.is_valid(expression, second_at_beginning=True):
            raise ValueError(f"invalid timer schedule {expression!r}")

    def next_after(self, moment: datetime) -> datetime:
        if self._interval is not None:
            return moment + self._interval
        following: datetime = croniter(self.expression, moment, second_at_beginning=True).get_next(datetime)
        return following


class TimerRunner:
    def __init__(self, function: FunctionSpec, invoker: Invoker) -> None:
        self.function = function
        self._invoker = invoker
        self._schedule = Schedule(str(function.trigger["schedule"]))

    async def run(self) -> None:
        if self.function.trigger.get("runOnStartup"):
            await self._fire(past_due=False, reason="RunOnStartup")
        due = self._schedule.next_after(datetime.now(UTC))
        while True:
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            late = datetime.now(UTC) - due > PAST_DUE_AFTER
            await self._fire(past_due=late, reason=f"Timer fired at {due.isoformat()}")
            due = self._schedule.next_after(max(due, datetime.now(UTC)))

    async def fire_now(self) -> None:
        await self._fire(past_due=False, reason="Manually triggered")

    async def _fire(self, *, past_due: bool, reason: str) -> None:
        request = TimerRequest(past_due=past_due, schedule={"AdjustForDST": True}, schedule_status=None)
        try:
            await self._invoker.invoke(
                self.function, {str(self.function.trigger["name"]): request}, reason=reason
            )
        except Exception:
            pass  # already logged by the invoker; a failed occurrence does not stop the schedule
