"""Spans, metrics and logs as OTLP JSON lines in files: the local stack's exporter, no service needed.

Each line is one OTLP/JSON export request (`ExportTraceServiceRequest`, `ExportMetricsServiceRequest`,
`ExportLogsServiceRequest`), encoded as the OTLP specification says: camelCase field names, enums as
integers, trace and span ids in hex. The OpenTelemetry Collector's `otlpjsonfile` receiver reads these
files, and so does `python -m devtools.trace`. Lines are appended whole, under a lock; metrics are
written as deltas, and only when something was recorded.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import Counter, Histogram, UpDownCounter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})


# A file this large is moved aside (`<name>.1.jsonl`, replacing the one before) and started anew.
MAX_FILE_BYTES = 64 * 1024 * 1024


def rotated(path: Path) -> Path:
    """Where `path`'s previous contents are kept once it has grown past MAX_FILE_BYTES."""
    return path.with_name(f"{path.stem}.1{path.suffix}")


class JsonLinesFile:
    """One file that whole JSON documents are appended to, one per line."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, document: dict[str, Any]) -> None:
        line = json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line)
                size = file.tell()
            if size > self._max_bytes:
                self.path.replace(rotated(self.path))


def otlp_json(message: Message) -> dict[str, Any]:
    """An OTLP protobuf message in OTLP/JSON: ids as hex rather than protobuf-JSON's base64."""
    return _hex_ids(MessageToDict(message, use_integers_for_enums=True))


def _hex_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: base64.b64decode(item).hex()
            if key in _ID_FIELDS and isinstance(item, str)
            else _hex_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids(item) for item in value]
    return value


class FileSpanExporter(SpanExporter):
    def __init__(self, path: Path) -> None:
        self._file = JsonLinesFile(path)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if spans:
            self._file.append(otlp_json(encode_spans(spans)))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class FileLogExporter(LogRecordExporter):
    def __init__(self, path: Path) -> None:
        self._file = JsonLinesFile(path)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        if batch:
            self._file.append(otlp_json(encode_logs(batch)))
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class FileMetricExporter(MetricExporter):
    """Deltas: each line holds what was recorded since the previous one, so the file grows with the
    activity, not with time."""

    def __init__(self, path: Path) -> None:
        delta = AggregationTemporality.DELTA
        super().__init__(preferred_temporality={Counter: delta, UpDownCounter: delta, Histogram: delta})
        self._file = JsonLinesFile(path)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        if any(
            metric.data.data_points
            for resource in metrics_data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        ):
            self._file.append(otlp_json(encode_metrics(metrics_data)))
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass
