"""The local stack the benchmarks run against: the example settings on free ports, plus their own."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.stack.stack import ROOT, LocalStack, settings_on_free_ports


@contextmanager
def bench_stack(overrides: dict[str, str]) -> Iterator[LocalStack]:
    """A started stack (dev host without timers) in a temporary directory, stopped on exit."""
    example = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    values, endpoints = settings_on_free_ports(example)
    values |= overrides
    values["FETCH_DEV_HTTP_HOSTS"] = f"127.0.0.1:{endpoints.blob_port}"
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
