"""The local stack the benchmarks run against: the example settings on free ports, plus their own."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.stack.processes import free_port
from devtools.stack.stack import ROOT, Endpoints, LocalStack, settings_on_free_ports

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def tree_cpu_seconds(pid: int) -> float:
    """CPU a process and its descendants (an emulator started through a launcher script) have used."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue  # ended meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        pending += children.get(current, [])
        try:
            total += process_cpu_seconds(current)
        except OSError:
            pass
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """CPU seconds the machine's cores have spent busy, and in all, since boot."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICKS, sum(ticks) / TICKS  # without idle and iowait


@contextmanager
def bench_stack(
    overrides: dict[str, str], *, route: Callable[[dict[str, str], Endpoints], None] | None = None
) -> Iterator[LocalStack]:
    """A started stack (dev host without timers) in a temporary directory, stopped on exit. `route` may
    change where the app reaches the emulators (e.g. through a counting proxy) after the ports are set."""
    example = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    values, endpoints = settings_on_free_ports(example)
    values |= overrides
    if route is not None:
        route(values, endpoints)
    with tempfile.TemporaryDirectory() as data:
        stack = LocalStack(
            values=values,
            endpoints=endpoints,
            data_dir=Path(data),
            log_dir=Path(data) / "logs",
            devhost_args=["--no-timers"],
        )
        with stack:
            yield stack


@contextmanager
def bench_hosts(stack: LocalStack, count: int) -> Iterator[list[LocalStack]]:
    """`stack` and, when `count` is 2, a second dev host process on the same stores and queues (its own
    API port, no timers), stopped on exit."""
    hosts = [stack]
    if count == 2:
        second = LocalStack(
            values=stack.values,
            endpoints=dataclasses.replace(stack.endpoints, api_port=free_port()),
            data_dir=stack.data_dir,
            log_dir=stack.data_dir / "second-host-logs",
            devhost_args=["--no-timers"],
        )
        second.start_app()
        hosts.append(second)
    try:
        yield hosts
    finally:
        for extra in hosts[1:]:
            extra.stop()
