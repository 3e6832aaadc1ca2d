"""The local stack the benchmarks run against: the example settings on free ports, plus their own."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.stack.stack import ROOT, Endpoints, LocalStack, settings_on_free_ports


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
