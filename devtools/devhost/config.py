"""host.json and local.settings.json, read as the Functions host reads them."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?")
_BINDING_EXPRESSION = re.compile(r"%([^%]+)%")


def parse_timespan(value: str) -> float:
    """Seconds in a .NET TimeSpan string such as `00:00:02` or `1.00:00:00.500`."""
    match = _TIMESPAN.fullmatch(value.strip())
    if not match:
        raise ValueError(f"not a TimeSpan: {value!r}")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


@dataclass(frozen=True)
class QueueOptions:
    """`extensions.queues` with the host's defaults."""

    batch_size: int = 16
    new_batch_threshold: int | None = None
    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: str = "base64"

    @property
    def threshold(self) -> int:
        return self.new_batch_threshold if self.new_batch_threshold is not None else self.batch_size // 2


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    function_timeout: float | None = None
    queues: QueueOptions = QueueOptions()

    @classmethod
    def load(cls, app_dir: Path) -> HostConfig:
        path = app_dir / "host.json"
        data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        _apply_host_overrides(data, os.environ)
        extensions = data.get("extensions", {})
        http = extensions.get("http", {})
        queues = extensions.get("queues", {})
        options = QueueOptions(
            batch_size=int(queues.get("batchSize", 16)),
            new_batch_threshold=int(queues["newBatchThreshold"]) if "newBatchThreshold" in queues else None,
            max_polling_interval=parse_timespan(queues.get("maxPollingInterval", "00:01:00")),
            visibility_timeout=parse_timespan(queues.get("visibilityTimeout", "00:00:00")),
            max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
            message_encoding=str(queues.get("messageEncoding", "base64")).lower(),
        )
        timeout = data.get("functionTimeout")
        return cls(
            route_prefix=str(http.get("routePrefix", "api")).strip("/"),
            function_timeout=parse_timespan(timeout) if timeout and timeout != "-1" else None,
            queues=options,
        )


_HOST_OVERRIDE_PREFIX = "AzureFunctionsJobHost__"


def _apply_host_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    """App settings `AzureFunctionsJobHost__a__b` override host.json's `a.b`, as on the real host."""
    for key, value in environ.items():
        if not key.startswith(_HOST_OVERRIDE_PREFIX):
            continue
        *parents, leaf = key[len(_HOST_OVERRIDE_PREFIX) :].split("__")
        node = data
        for name in parents:
            existing = next((k for k in node if k.lower() == name.lower()), name)
            node = node.setdefault(existing, {})
        existing_leaf = next((k for k in node if k.lower() == leaf.lower()), leaf)
        node[existing_leaf] = value


def load_local_settings(app_dir: Path) -> dict[str, str]:
    """`Values` of local.settings.json, or of its `.example` when the developer has not made one."""
    for name in ("local.settings.json", "local.settings.json.example"):
        path = app_dir / name
        if path.exists():
            values = json.loads(path.read_text()).get("Values", {})
            return {str(key): str(value) for key, value in values.items()}
    return {}


def apply_settings(values: dict[str, str]) -> None:
    """Put settings into the environment; variables already set win, as with Core Tools."""
    for key, value in values.items():
        os.environ.setdefault(key, value)


def resolve_binding_expression(value: str) -> str:
    """Replace `%Setting%` with the app setting's value; a missing setting is an indexing error."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise KeyError(f"binding expression %{name}% names an app setting that is not set")
        return os.environ[name]

    return _BINDING_EXPRESSION.sub(lookup, value)
