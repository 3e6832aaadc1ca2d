from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.devhost.config import HostConfig, parse_timespan, resolve_binding_expression
from devtools.devhost.routing import compile_route
from devtools.devhost.timers import Schedule


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:00:02", 2), ("00:01:00", 60), ("1.02:00:00", 93600), ("00:00:00.500", 0.5)]
)
def test_timespans(text: str, seconds: float) -> None:
    assert parse_timespan(text) == seconds


def test_host_json_with_app_setting_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "extensions": {
                    "http": {"routePrefix": "x"},
                    "queues": {"batchSize": 8, "maxPollingInterval": "00:00:02"},
                }
            }
        )
    )
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__queues__maxPollingInterval", "00:00:00.250")
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__queues__maxDequeueCount", "2")

    config = HostConfig.load(tmp_path)

    assert config.route_prefix == "x"
    assert config.queues.batch_size == 8
    assert config.queues.threshold == 4  # defaults to half the batch
    assert config.queues.max_polling_interval == 0.25
    assert config.queues.max_dequeue_count == 2


def test_binding_expressions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBS_QUEUE", "jobs")
    assert resolve_binding_expression("%JOBS_QUEUE%-poison") == "jobs-poison"
    with pytest.raises(KeyError, match="MISSING_SETTING"):
        resolve_binding_expression("%MISSING_SETTING%")


def test_route_templates() -> None:
    route = compile_route("api/v1/things/{id}/parts/{part:int?}")
    assert route.match("/api/v1/things/a/parts") == {"id": "a"}
    assert route.match("/api/v1/things/a/parts/3") == {"id": "a", "part": "3"}
    assert route.match("/api/v1/things/a/parts/x") is None
    assert compile_route("files/{*path}").match("/files/a/b.png") == {"path": "a/b.png"}
    assert compile_route("a/b").precedence < compile_route("a/{x}").precedence


def test_schedules() -> None:
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert Schedule("0 */5 * * * *").next_after(start) == datetime(2026, 1, 1, 0, 5, 0, tzinfo=UTC)
    assert Schedule("00:00:30").next_after(start) == datetime(2026, 1, 1, 0, 0, 31, tzinfo=UTC)
    with pytest.raises(ValueError):
        Schedule("every minute")
