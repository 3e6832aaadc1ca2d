"""Where a queue invocation's wall time goes, read from the dev host's log of a throughput run.

The jobs of one batch start and end together, so an invocation's wall time beyond the provider call is
what the next batch waits for. The app logs four lines per job that split it (their times have
millisecond resolution): the delivery (`Job X: message M, delivery N`), the run after the claim (`Job X:
run R, attempt N`), the provider call's start (`Job X: attempt N with p/m`), the terminal write (`Job X
ended succeeded`) and the settlement (`Job X: N credit(s) charged`). The dev host logs each invocation's
duration (`Executed 'Functions.generation_worker' (..., Duration=Nms)`); the call itself is the
simulator's mean call time, so "answer to end" is the span from the call's start to the terminal write
less that.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ [\w.]+: (.*)$")
_MARKS = {
    "delivered": re.compile(r"^Job (\S+): message \S+, delivery \d+$"),
    "claimed": re.compile(r"^Job (\S+): run \S+, attempt \d+$"),
    "calling": re.compile(r"^Job (\S+): attempt \d+ with \S+$"),
    "ended": re.compile(r"^Job (\S+) ended succeeded"),
    "settled": re.compile(r"^Job (\S+): \d+ credit\(s\) charged$"),
}
_EXECUTING = re.compile(r"^Executing 'Functions\.generation_worker' \(Reason=.*, Id=(\S+)\)$")
_EXECUTED = re.compile(r"^Executed 'Functions\.generation_worker' \(Succeeded, Id=(\S+), Duration=(\d+)ms\)$")


@dataclass(frozen=True)
class Phases:
    """Medians over the jobs, in seconds."""

    jobs: int
    invocation: float  # the dev host's Duration of an invocation
    admission_and_claim: float  # delivered -> claimed
    before_call: float  # claimed -> calling
    answer_to_end: float  # calling -> ended, less the call
    settlement: float  # ended -> settled


def invocation_phases(log: str, job_ids: set[str], call_seconds: float) -> Phases:
    marks: dict[str, dict[str, datetime]] = {}
    durations: list[float] = []
    for line in log.splitlines():
        parsed = _LINE.match(line)
        if parsed is None:
            continue
        stamp, text = parsed.groups()
        executed = _EXECUTED.match(text)
        if executed is not None:
            durations.append(int(executed.group(2)) / 1000)
            continue
        for name, pattern in _MARKS.items():
            found = pattern.match(text)
            if found is not None and found.group(1) in job_ids:
                at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
                marks.setdefault(found.group(1), {}).setdefault(name, at)
                break
    complete = [m for m in marks.values() if len(m) == len(_MARKS)]

    def median(start: str, end: str, less: float = 0.0) -> float:
        return statistics.median((m[end] - m[start]).total_seconds() - less for m in complete)

    return Phases(
        jobs=len(complete),
        # The warm-up's invocations come first; the measured jobs' are the last ones.
        invocation=statistics.median(durations[-len(job_ids) :]),
        admission_and_claim=median("delivered", "claimed"),
        before_call=median("claimed", "calling"),
        answer_to_end=median("calling", "ended", call_seconds),
        settlement=median("ended", "settled"),
    )


def invocation_durations(log: str, count: int) -> list[float]:
    """The dev host's durations of the last `count` worker invocations, in the order they started: the
    order the listener fetched their messages."""
    started: list[str] = []
    durations: dict[str, float] = {}
    for line in log.splitlines():
        parsed = _LINE.match(line)
        if parsed is None:
            continue
        text = parsed.group(2)
        if (executing := _EXECUTING.match(text)) is not None:
            started.append(executing.group(1))
        elif (executed := _EXECUTED.match(text)) is not None:
            durations[executed.group(1)] = int(executed.group(2)) / 1000
    return [durations[invocation] for invocation in started[-count:] if invocation in durations]
