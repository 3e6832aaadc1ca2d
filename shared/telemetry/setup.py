"""Turning telemetry on, once per process, for the exporters the settings configure.

- APPLICATIONINSIGHTS_CONNECTION_STRING: `configure_azure_monitor` (traces, metrics, logs, azure-core's
  tracing plugin for the Azure SDKs, httpx). Its exporter authenticates with the managed identity named in
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING (Entra-only ingestion); it keeps its own default sampler
  (standard `OTEL_TRACES_SAMPLER` variables change it).
- TELEMETRY_FILES_DIRECTORY: the same signals written as OTLP JSON lines into that directory
  (`shared/telemetry/files.py`); spans and logs are written as they end, metrics every
  `OTEL_METRIC_EXPORT_INTERVAL` ms (10 s by default here).

Both may be set. With neither, nothing here imports OpenTelemetry and `state()` stays None: every helper
of this package is then a no-op.

The app's own log records (`shared.*`) are exported, and other loggers' warnings and errors (the Azure
SDKs', the worker's: with the worker's OpenTelemetry switch on, the host no longer sends them), each
carrying the job it was written for (`imagegen.job.id`) besides the trace and span ids OpenTelemetry
adds.
"""

from __future__ import annotations

import logging
import os
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter
    from opentelemetry.trace import Tracer

logger = logging.getLogger(__name__)

# The app's modules all log under `shared`: all of their records are exported, of other loggers only
# warnings and errors (shared/telemetry/setup.py `ExportedRecords`).
APP_LOGGER = "shared"
_TELEMETRY_LOGGERS = ("opentelemetry", "azure.monitor")
SCOPE = "imagegen"
SERVICE_NAME = "imagegen"
LOCAL_METRIC_INTERVAL_MS = 10_000

# The job a log record is written for: set by the job's spans (shared/telemetry/jobs.py).
current_job_id: ContextVar[str | None] = ContextVar("imagegen_job_id", default=None)


@dataclass
class Telemetry:
    tracer: Tracer
    meter: Meter
    providers: list[Any] = field(default_factory=list)  # what flush() flushes
    instruments: dict[str, Any] = field(default_factory=dict)  # by name, made on first use


_state: Telemetry | None = None
_configured = False  # the process-wide providers can be set once only
_lock = threading.Lock()


def state() -> Telemetry | None:
    """The process's telemetry, or None when no exporter is configured."""
    return _state


def configure_telemetry(settings: Settings) -> bool:
    """Turn telemetry on for the configured exporters (once per process); False when none is configured
    or setting it up failed. A failure is logged, naming the settings, and the app runs without telemetry:
    telemetry never takes the service down."""
    global _configured
    connection = settings.applicationinsights_connection_string
    directory = settings.telemetry_files_directory
    if connection is None and not directory:
        return False
    with _lock:
        if not _configured:
            _configured = True
            try:
                _configure(
                    connection.get_secret_value() if connection else None,
                    Path(directory) if directory else None,
                    has_authentication=bool(settings.applicationinsights_authentication_string),
                )
            except Exception:
                logger.error(
                    "Telemetry could not be set up; the app runs without it. Check "
                    "APPLICATIONINSIGHTS_CONNECTION_STRING and TELEMETRY_FILES_DIRECTORY",
                    exc_info=True,
                )
    return _state is not None


def activate(tracer_provider: Any, meter_provider: Any, *flushable: Any) -> Telemetry:
    """Record spans and metrics with these providers from now on (what `configure_telemetry` ends with;
    tests pass in-memory ones)."""
    global _state
    _state = Telemetry(
        tracer=tracer_provider.get_tracer(SCOPE),
        meter=meter_provider.get_meter(SCOPE),
        providers=[p for p in (tracer_provider, meter_provider, *flushable) if hasattr(p, "force_flush")],
    )
    return _state


def deactivate() -> None:
    """Every helper is a no-op again (tests; the providers themselves are left as they are)."""
    global _state
    _state = None


def flush_telemetry(timeout_millis: int = 5000) -> None:
    """Export everything recorded so far (metrics included), e.g. before reading the files back."""
    if _state is not None:
        for provider in _state.providers:
            provider.force_flush(timeout_millis)


def _configure(connection: str | None, directory: Path | None, *, has_authentication: bool) -> None:
    from opentelemetry import _logs, metrics, trace

    span_processors, log_processors, metric_readers = _file_pipeline(directory) if directory else ([], [], [])
    if connection is not None:
        if not has_authentication:
            logger.warning(
                "APPLICATIONINSIGHTS_AUTHENTICATION_STRING is not set: telemetry is sent without Entra "
                "authentication, which a resource with local auth off refuses"
            )
        _configure_azure_monitor(connection, span_processors, log_processors, metric_readers)
    else:
        _configure_sdk(span_processors, log_processors, metric_readers)
    _filter_exported_records()
    activate(trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider())
    logger.info(
        "Telemetry on: %s",
        ", ".join(
            [
                *(["Application Insights"] if connection else []),
                *([f"files in {directory}"] if directory else []),
            ]
        ),
    )


def _file_pipeline(directory: Path) -> tuple[list[Any], list[Any], list[Any]]:
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from shared.telemetry.files import FileLogExporter, FileMetricExporter, FileSpanExporter

    interval = int(os.environ.get("OTEL_METRIC_EXPORT_INTERVAL") or LOCAL_METRIC_INTERVAL_MS)
    return (
        [SimpleSpanProcessor(FileSpanExporter(directory / "spans.jsonl"))],
        [SimpleLogRecordProcessor(FileLogExporter(directory / "logs.jsonl"))],
        [PeriodicExportingMetricReader(FileMetricExporter(directory / "metrics.jsonl"), interval)],
    )


def _configure_azure_monitor(
    connection: str, span_processors: list[Any], log_processors: list[Any], metric_readers: list[Any]
) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(
        connection_string=connection,
        logger_name="",  # the root logger; `ExportedRecords` decides what goes out
        span_processors=span_processors,
        log_record_processors=log_processors,
        metric_readers=metric_readers,
    )


def _configure_sdk(span_processors: list[Any], log_processors: list[Any], metric_readers: list[Any]) -> None:
    """What `configure_azure_monitor` sets up, with the file exporters alone: providers (the default
    parent-based sampler), the app's log records, azure-core's tracing plugin and httpx."""
    from azure.core.settings import settings as azure_settings
    from opentelemetry import _logs, metrics, trace
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.logging.handler import LoggingHandler
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import SERVICE_NAME as SERVICE_NAME_KEY
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    # OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES name the service; without them it is `imagegen`.
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME_KEY, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME_KEY: SERVICE_NAME}))
    tracer_provider = TracerProvider(resource=resource)
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=metric_readers, resource=resource))
    logger_provider = LoggerProvider(resource=resource)
    for log_processor in log_processors:
        logger_provider.add_log_record_processor(log_processor)
    _logs.set_logger_provider(logger_provider)
    logging.getLogger().addHandler(LoggingHandler(logger_provider=logger_provider))
    azure_settings.tracing_implementation = "opentelemetry"
    HTTPXClientInstrumentor().instrument()


class ExportedRecords(logging.Filter):
    """Which records are exported: the app's (`shared.*`, every level) and other loggers' warnings and
    errors (the Azure SDKs', the worker's), never OpenTelemetry's own (an exporter failing must not log
    itself into a loop). Each carries the job it was written for, when there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name == APP_LOGGER or record.name.startswith(f"{APP_LOGGER}.")
        if not own and (record.levelno < logging.WARNING or record.name.startswith(_TELEMETRY_LOGGERS)):
            return False
        job_id = current_job_id.get()
        if job_id is not None:
            setattr(record, "imagegen.job.id", job_id)
        return True


def _filter_exported_records() -> None:
    from opentelemetry.instrumentation.logging.handler import LoggingHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, LoggingHandler) and not any(
            isinstance(f, ExportedRecords) for f in handler.filters
        ):
            handler.addFilter(ExportedRecords())
