"""Queue, timer and Event Grid trigger inputs and trigger metadata, as the Functions host sends them.

The host passes a trigger's value as the input binding (a queue message as a string, timer info and an
Event Grid event as JSON) and its binding data as `trigger_metadata`: the queue message's `Id`,
`DequeueCount`, `InsertionTime`, `ExpirationTime`, `NextVisibleTime`, `PopReceipt` and `QueueTrigger`,
plus, for a message that is a JSON object, its top-level properties (objects as JSON, other values as
strings, arrays and nulls left out), which replace same-named entries case-insensitively; an Event
Grid event's `data`. Numbers and dates go as the host's JSON serializer writes them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from devtools.devhost.protocol import protos


def dotnet_json_time(moment: datetime | None) -> str | None:
    """A DateTimeOffset as the host's JSON serializer writes it: `2026-11-22T10:00:00.25+00:00`."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    stamp = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    return stamp + (f".{fraction}" if fraction else "") + "+00:00"


def _json(value: Any) -> Any:
    return protos.TypedData(json=json.dumps(value, separators=(",", ":")))


def _string(value: str) -> Any:
    return protos.TypedData(string=value)


def _scalar_text(value: Any) -> str:
    """What the host's `(string)JValue` gives for a JSON scalar."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _apply_json_properties(metadata: dict[str, Any], body: str) -> None:
    text = body.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return
    try:
        parsed = json.loads(text)
    except ValueError:
        return
    if not isinstance(parsed, dict):
        return
    spelled = {name.lower(): name for name in metadata}
    for name, value in parsed.items():
        if value is None or isinstance(value, list):
            continue
        key = spelled.setdefault(name.lower(), name)
        metadata[key] = _json(value) if isinstance(value, dict) else _string(_scalar_text(value))


def queue_trigger(
    *,
    body: bytes,
    message_id: str,
    dequeue_count: int,
    inserted_on: datetime | None,
    expires_on: datetime | None,
    next_visible_on: datetime | None,
    pop_receipt: str,
) -> tuple[Any, dict[str, Any]]:
    """The input (the message as a string) and trigger metadata of one queue message."""
    text = body.decode("utf-8", errors="replace")
    metadata: dict[str, Any] = {
        "QueueTrigger": _string(text),
        "DequeueCount": _json(dequeue_count),
        "Id": _string(message_id),
        "PopReceipt": _string(pop_receipt),
    }
    for name, moment in (
        ("ExpirationTime", expires_on),
        ("InsertionTime", inserted_on),
        ("NextVisibleTime", next_visible_on),
    ):
        if moment is not None:
            metadata[name] = _json(dotnet_json_time(moment))
    _apply_json_properties(metadata, text)
    return _string(text), metadata


def timer_trigger(
    *, past_due: bool, adjust_for_dst: bool, status: dict[str, datetime] | None
) -> tuple[Any, dict[str, Any]]:
    """The input (TimerInfo as JSON) of one timer occurrence; `status` (Last, Next, LastUpdated) only
    for a function that uses the schedule monitor."""
    info: dict[str, Any] = {
        "Schedule": {"AdjustForDST": adjust_for_dst},
        "ScheduleStatus": None
        if status is None
        else {name: dotnet_json_time(moment) for name, moment in status.items()},
        "IsPastDue": past_due,
    }
    return _json(info), {}


def event_grid_trigger(event: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The input (the event as JSON) and trigger metadata (`data`) of one Event Grid event."""
    metadata = {} if event.get("data") is None else {"data": _json(event["data"])}
    return _json(event), metadata
