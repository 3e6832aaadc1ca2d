"""The service's metric instruments, each named, with its unit and meaning, once.

docs/operations.md lists them with their attributes and the Kusto queries that read them. Instruments
are created on first use once telemetry is on (`shared/telemetry/setup.py`); until then, and without an
exporter, recording does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.telemetry import setup

# Histogram buckets in seconds: provider calls take seconds, jobs up to JOB_DEADLINE_MINUTES.
SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)

Attributes = Mapping[str, str | bool | int | float]


@dataclass(frozen=True)
class Instrument:
    name: str
    kind: Literal["counter", "histogram"]
    unit: str
    description: str


JOBS_SUBMITTED = Instrument(
    "imagegen.jobs.submitted", "counter", "{job}", "Jobs stored and queued by a submit."
)
JOBS_ENDED = Instrument(
    "imagegen.jobs.ended",
    "counter",
    "{job}",
    "Jobs that reached a terminal state; each job once (recorded only where its terminal write applied).",
)
JOB_DURATION = Instrument(
    "imagegen.jobs.duration", "histogram", "s", "From a job's submit to its terminal write (submit-to-end)."
)
QUEUE_WAIT = Instrument(
    "imagegen.jobs.queue_wait",
    "histogram",
    "s",
    "From the moment a job's message became due (sent, plus any delay it was sent with) until a run "
    "claimed the job: how far the workers lag behind the queue.",
)
QUOTA_WAIT = Instrument(
    "imagegen.jobs.quota_wait",
    "histogram",
    "s",
    "How long a job was put back to wait for provider quota (the delay decided; not an attempt).",
)
RETRIES = Instrument(
    "imagegen.jobs.retries",
    "counter",
    "{retry}",
    "Transient provider failures after which the job was queued again with back-off.",
)
PROVIDER_CALL_DURATION = Instrument(
    "imagegen.provider.call.duration",
    "histogram",
    "s",
    "One provider call (all of one job's images from one provider/model), by provider, model and outcome.",
)
CREDITS_CHARGED = Instrument(
    "imagegen.credits.charged", "counter", "{credit}", "Credits charged for succeeded jobs (each job once)."
)
CREDITS_REFUNDED = Instrument(
    "imagegen.credits.refunded",
    "counter",
    "{credit}",
    "Reserved credits given back for failed or canceled jobs (each job once).",
)
WEBHOOK_DELIVERIES = Instrument(
    "imagegen.webhooks.deliveries", "counter", "{delivery}", "Webhook delivery attempts, by outcome."
)
THUMBNAILS = Instrument(
    "imagegen.thumbnails",
    "counter",
    "{event}",
    "Blob-created events the thumbnail function handled, by outcome.",
)

ALL = (
    JOBS_SUBMITTED,
    JOBS_ENDED,
    JOB_DURATION,
    QUEUE_WAIT,
    QUOTA_WAIT,
    RETRIES,
    PROVIDER_CALL_DURATION,
    CREDITS_CHARGED,
    CREDITS_REFUNDED,
    WEBHOOK_DELIVERIES,
    THUMBNAILS,
)


def add(instrument: Instrument, amount: int | float, attributes: Attributes | None = None) -> None:
    """Count `amount` on a counter (no-op without telemetry)."""
    assert instrument.kind == "counter", instrument.name
    made = _instrument(instrument)
    if made is not None:
        made.add(amount, dict(attributes or {}))


def record(instrument: Instrument, value: float, attributes: Attributes | None = None) -> None:
    """Record `value` on a histogram (no-op without telemetry)."""
    assert instrument.kind == "histogram", instrument.name
    made = _instrument(instrument)
    if made is not None:
        made.record(max(0.0, value), dict(attributes or {}))


def _instrument(instrument: Instrument) -> Any:
    telemetry = setup.state()
    if telemetry is None:
        return None
    made = telemetry.instruments.get(instrument.name)
    if made is None:
        meter = telemetry.meter
        if instrument.kind == "counter":
            made = meter.create_counter(
                instrument.name, unit=instrument.unit, description=instrument.description
            )
        else:
            made = meter.create_histogram(
                instrument.name,
                unit=instrument.unit,
                description=instrument.description,
                explicit_bucket_boundaries_advisory=list(SECONDS_BUCKETS),
            )
        telemetry.instruments[instrument.name] = made
    return made
