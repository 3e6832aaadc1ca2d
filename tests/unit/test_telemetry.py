"""The job's telemetry on in-memory fakes: one trace per job across the queue, metrics that count each job
once, the message stamps, the file export devtools.trace reads, and nothing imported without an exporter."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    NumberDataPoint,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devtools.devhost.worker import invocation_traceparent
from devtools.trace import job_trace, read_spans, render
from shared.jobs.queue import JobQueue
from shared.jobs.recovery import sweep_stale_jobs
from shared.jobs.service import submit_generation
from shared.jobs.worker import process_job
from shared.models.jobs import GenerationRequest, JobDocument
from shared.models.messages import JobMessage, QueueReason
from shared.providers.base import transient_error
from shared.settings import Settings
from shared.telemetry import setup
from shared.telemetry.files import FileMetricExporter, FileSpanExporter, JsonLinesFile, rotated
from shared.telemetry.jobs import job_delivery
from shared.telemetry.w3c import is_sampled, parse_traceparent
from tests.fakes.context import FakeWorld, fake_world
from tests.fakes.storage import FakeQueueClient
from tests.unit.test_job_core import TENANT, Gate, age, deliveries, submit
from tests.unit.test_quota_scheduler import MODEL, QUOTA

ROOT = Path(__file__).resolve().parents[2]


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


@dataclass
class Captured:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    tracer_provider: TracerProvider

    def finished(self, name: str | None = None) -> list[ReadableSpan]:
        spans = sorted(self.spans.get_finished_spans(), key=lambda s: s.start_time or 0)
        return [s for s in spans if name is None or s.name == name]

    def points(self, metric: str) -> list[tuple[dict[str, Any], float]]:
        """(attributes, value) of each data point: a counter's sum, a histogram's count."""
        data = self.metrics.get_metrics_data()
        found: list[tuple[dict[str, Any], float]] = []
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name == metric:
                        for point in item.data.data_points:
                            value = point.value if isinstance(point, NumberDataPoint) else point.count
                            found.append((dict(point.attributes or {}), value))
        return found

    def total(self, metric: str, **attributes: Any) -> float:
        return sum(
            value
            for point, value in self.points(metric)
            if all(point.get(key.replace("_", ".")) == want for key, want in attributes.items())
        )


@pytest.fixture
def telemetry() -> Iterator[Captured]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    setup.activate(tracer_provider, meter_provider)
    try:
        yield Captured(spans, reader, tracer_provider)
    finally:
        setup.deactivate()
        meter_provider.shutdown()
        tracer_provider.shutdown()


async def deliver(world: FakeWorld, message: JobMessage, *, delivery: int = 1) -> None:
    """What the queue trigger does with a message."""
    with job_delivery(message, delivery=delivery):
        await process_job(world.ctx, message)


def trace_id(job: JobDocument) -> int:
    assert job.trace_id is not None
    return int(job.trace_id, 16)


async def test_a_job_is_one_trace_from_its_submit_through_the_queue_to_its_provider_call_and_upload(
    telemetry: Captured,
) -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    await deliver(world, message)

    (submitted,) = telemetry.finished("imagegen.job.submit")
    (queued,) = telemetry.finished("imagegen.job.queued")
    (process,) = telemetry.finished("imagegen.job.process")
    (call,) = telemetry.finished("imagegen.provider.call")
    (upload,) = telemetry.finished("imagegen.image.upload")
    (finish,) = telemetry.finished("imagegen.job.finish")
    assert {s.context.trace_id for s in telemetry.finished()} == {trace_id(job)}
    assert message.traceparent == job.traceparent
    assert (
        job.traceparent is not None and job.traceparent.split("-")[2] == f"{submitted.context.span_id:016x}"
    )
    # Parented, not linked, across the queue: the time on the queue and the delivery hang under the submit.
    assert queued.parent is not None and queued.parent.span_id == submitted.context.span_id
    assert process.parent is not None and process.parent.span_id == submitted.context.span_id
    assert _attributes(queued)["imagegen.queue.reason"] == "submit"
    assert queued.end_time is not None and process.start_time is not None
    assert queued.end_time <= process.start_time + 1_000_000
    assert call.parent is not None and call.parent.span_id == process.context.span_id
    assert (
        _attributes(call).items()
        >= {
            "imagegen.job.attempt": 1,
            "imagegen.provider": "gemini",
            "imagegen.model": "gemini-2.5-flash-image",
            "imagegen.fallback": False,
            "imagegen.job.id": job.id,
        }.items()
    )
    assert upload.parent is not None and upload.parent.span_id == process.context.span_id
    assert str(_attributes(upload)["imagegen.blob.name"]).endswith(f"{job.id}-0.png")
    assert finish.parent is not None and finish.parent.span_id == process.context.span_id
    assert _attributes(process)["imagegen.job.status"] == "succeeded"
    # The job's metrics: submitted, waited, called, ended and charged, once each.
    assert telemetry.total("imagegen.jobs.submitted", imagegen_model="gemini-2.5-flash-image") == 1
    assert telemetry.total("imagegen.jobs.queue_wait", imagegen_queue_reason="submit") == 1
    assert telemetry.total("imagegen.provider.call.duration", imagegen_outcome="ok") == 1
    assert telemetry.total("imagegen.jobs.ended", imagegen_job_status="succeeded") == 1
    assert telemetry.total("imagegen.jobs.duration", imagegen_job_status="succeeded") == 1
    assert telemetry.total("imagegen.credits.charged") == 1


async def test_the_hosts_invocation_span_is_linked_and_the_job_stays_the_parent(telemetry: Captured) -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    tracer = telemetry.tracer_provider.get_tracer("host")

    with tracer.start_as_current_span("host invocation") as host:
        await deliver(world, message)

    (process,) = telemetry.finished("imagegen.job.process")
    assert process.context.trace_id == trace_id(job) != host.get_span_context().trace_id
    assert [link.context.span_id for link in process.links] == [host.get_span_context().span_id]


async def test_duplicate_deliveries_are_spans_of_the_job_but_its_ending_and_charge_count_once(
    telemetry: Captured,
) -> None:
    world = fake_world()
    job = await submit(world)
    (message,) = deliveries(world)
    gate = Gate()
    world.provider.script.append(gate)
    first = asyncio.create_task(deliver(world, message))
    await gate.entered.wait()
    await deliver(world, message)  # a duplicate while the first run holds the job
    gate.release.set()
    await first
    (deferred,) = deliveries(world)
    await deliver(world, deferred)  # it comes back once the job has ended

    outcomes = [_attributes(s)["imagegen.outcome"] for s in telemetry.finished("imagegen.job.process")]
    assert sorted(map(str, outcomes)) == ["claimed", "deferred", "dropped"]
    reasons = [_attributes(s)["imagegen.queue.reason"] for s in telemetry.finished("imagegen.job.queued")]
    assert sorted(map(str, reasons)) == ["deferred", "submit", "submit"]
    assert {s.context.trace_id for s in telemetry.finished()} == {trace_id(job)}
    assert telemetry.total("imagegen.jobs.ended") == 1
    assert telemetry.total("imagegen.credits.charged") == 1
    assert telemetry.total("imagegen.jobs.queue_wait") == 1, "only the delivery that ran waited for a run"


async def test_a_transient_failure_is_a_retry_of_the_same_trace_with_its_error(telemetry: Captured) -> None:
    world = fake_world()
    job = await submit(world)
    world.provider.script.append(transient_error("busy", retry_after=3))
    (message,) = deliveries(world)
    await deliver(world, message)
    (retry,) = deliveries(world)
    age(world, job, notBefore=timedelta(seconds=5))
    await deliver(world, retry)

    first, second = telemetry.finished("imagegen.provider.call")
    assert (_attributes(first)["imagegen.job.attempt"], _attributes(second)["imagegen.job.attempt"]) == (1, 2)
    assert _attributes(first)["error.type"] == "PROVIDER_UNAVAILABLE"
    assert (
        _attributes(first)["imagegen.transient"] is True and _attributes(first)["imagegen.retry_after_s"] == 3
    )
    assert not first.status.is_ok and second.status.is_unset
    assert retry.reason == QueueReason.RETRY
    runs = telemetry.finished("imagegen.job.process")
    assert [_attributes(r)["imagegen.outcome"] for r in runs] == ["retry", "claimed"]
    assert {s.context.trace_id for s in telemetry.finished()} == {trace_id(job)}
    assert telemetry.total("imagegen.jobs.retries", error_type="PROVIDER_UNAVAILABLE") == 1
    assert telemetry.total("imagegen.provider.call.duration", imagegen_outcome="PROVIDER_UNAVAILABLE") == 1
    assert telemetry.total("imagegen.jobs.ended") == 1


async def test_a_message_the_sweep_sends_again_carries_the_jobs_trace(telemetry: Captured) -> None:
    world = fake_world()
    job = await submit(world)
    deliveries(world)  # the message is lost
    age(world, job, updatedAt=timedelta(minutes=15))

    await sweep_stale_jobs(world.ctx)

    (message,) = deliveries(world)
    assert message.traceparent == job.traceparent and message.reason == QueueReason.RECOVERY
    (sweep,) = telemetry.finished("imagegen.job.sweep")
    assert sweep.context.trace_id == trace_id(job)


async def test_the_queue_stamps_each_message_with_when_and_why_it_was_sent() -> None:
    client = FakeQueueClient()
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    await JobQueue(cast(Any, client)).enqueue(
        JobMessage(job_id="j", tenant_id="t", traceparent=traceparent),
        delay_seconds=30,
        reason=QueueReason.RETRY,
    )

    (sent,) = client.take()
    message = JobMessage.model_validate_json(sent.content)
    assert message.traceparent == traceparent and message.reason == "retry"
    assert message.queued_at is not None and message.due_at == message.queued_at + timedelta(seconds=30)
    assert sent.visibility_timeout == 30


async def test_without_telemetry_a_job_still_gets_a_sampled_trace_context() -> None:
    world = fake_world()
    job = await submit_generation(world.ctx, TENANT, GenerationRequest(prompt="p"))

    assert job.traceparent is not None and parse_traceparent(job.traceparent) == job.traceparent
    assert is_sampled(job.traceparent)


_NO_EXPORTER_PROBE = """
import asyncio, sys
import function_app
from shared.jobs.service import submit_generation
from shared.jobs.worker import process_job
from shared.models.jobs import GenerationRequest
from shared.models.messages import JobMessage
from shared.telemetry import setup
from shared.telemetry.jobs import job_delivery
from tests.fakes.context import fake_world

async def main():
    world = fake_world()
    assert not setup.configure_telemetry(world.ctx.settings)
    job = await submit_generation(world.ctx, "t", GenerationRequest(prompt="p"))
    message = JobMessage.model_validate_json(world.job_queue.take()[0].content)
    with job_delivery(message):
        await process_job(world.ctx, message)
    print(job.trace_id)

asyncio.run(main())
print(sorted(m for m in sys.modules if m.startswith(("opentelemetry", "azure.monitor"))))
"""


def test_without_an_exporter_a_submit_and_a_run_import_nothing_of_opentelemetry() -> None:
    output = subprocess.run(
        [sys.executable, "-c", _NO_EXPORTER_PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()

    assert len(output[0]) == 32
    assert output[1] == "[]"


def test_the_file_export_is_otlp_json_lines_that_devtools_trace_reads_as_a_tree(tmp_path: Path) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(tmp_path / "spans.jsonl")))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("imagegen.job.submit", attributes={"imagegen.job.id": "job-1"}) as root:
        with tracer.start_as_current_span("imagegen.provider.call", attributes={"imagegen.model": "m"}):
            pass
    with tracer.start_as_current_span("unrelated"):
        pass
    provider.shutdown()

    line = json.loads((tmp_path / "spans.jsonl").read_text().splitlines()[0])
    span = line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == f"{root.get_span_context().trace_id:032x}"
    assert len(span["spanId"]) == 16 and span["kind"] == 1
    (tree,) = job_trace(read_spans(tmp_path), "job-1")
    assert tree.name == "imagegen.job.submit" and [c.name for c in tree.children] == [
        "imagegen.provider.call"
    ]
    printed = render([tree], "job-1").splitlines()
    assert printed[0].startswith(f"job job-1  trace {span['traceId']}") and printed[0].endswith("2 spans")
    assert printed[1].split(" ms  ")[1] == "imagegen.job.submit"
    assert printed[2].split(" ms  ")[1] == "  imagegen.provider.call  model=m"


def test_the_metrics_file_gets_a_line_only_when_something_was_recorded(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    reader = PeriodicExportingMetricReader(FileMetricExporter(path), export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader])
    counter = provider.get_meter("test").create_counter("imagegen.jobs.ended")
    counter.add(2, {"imagegen.job.status": "succeeded"})
    reader.force_flush()
    reader.force_flush()  # nothing new: a delta without data points is not written
    provider.shutdown()

    (line,) = path.read_text().splitlines()
    (metric,) = json.loads(line)["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
    assert metric["name"] == "imagegen.jobs.ended"
    assert metric["sum"]["aggregationTemporality"] == 1  # delta
    assert metric["sum"]["dataPoints"][0]["asInt"] == "2"


def test_a_full_file_is_moved_aside_and_both_are_read(tmp_path: Path) -> None:
    file = JsonLinesFile(tmp_path / "spans.jsonl", max_bytes=10)
    file.append({"resourceSpans": []})
    file.append({"resourceSpans": []})

    assert rotated(tmp_path / "spans.jsonl").exists() and not (tmp_path / "spans.jsonl").exists()
    assert list(read_spans(tmp_path)) == []


def test_the_dev_host_continues_a_callers_trace_and_starts_sampled_ones_otherwise() -> None:
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    continued = invocation_traceparent(caller)
    fresh = invocation_traceparent(None)

    assert continued.split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert continued.split("-")[2] != "00f067aa0ba902b7" and continued.endswith("-01")
    assert parse_traceparent(fresh) == fresh and is_sampled(fresh)
    assert invocation_traceparent("00-zz-yy-01").split("-")[1] != "zz"


def test_exported_log_records_are_the_apps_and_others_warnings_each_with_its_job() -> None:
    exported = setup.ExportedRecords()

    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "message", None, None)

    token = setup.current_job_id.set("job-1")
    try:
        app_info = record("shared.jobs.worker", logging.INFO)
        assert exported.filter(app_info) and getattr(app_info, "imagegen.job.id") == "job-1"
        assert not exported.filter(record("azure.core.pipeline.policies.http_logging_policy", logging.INFO))
        assert exported.filter(record("azure.cosmos", logging.WARNING))
        assert not exported.filter(record("opentelemetry.sdk._shared_internal", logging.ERROR))
        assert not exported.filter(record("azure.monitor.opentelemetry.exporter", logging.WARNING))
    finally:
        setup.current_job_id.reset(token)
    outside_a_job = record("shared.jobs.service", logging.INFO)
    assert exported.filter(outside_a_job) and not hasattr(outside_a_job, "imagegen.job.id")


def test_telemetry_that_cannot_be_set_up_is_logged_and_the_app_runs_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(setup, "_configured", False)
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    settings = Settings(COSMOS_ENDPOINT="https://x", TELEMETRY_FILES_DIRECTORY=str(not_a_directory / "t"))

    assert setup.configure_telemetry(settings) is False
    assert setup.state() is None
    assert "TELEMETRY_FILES_DIRECTORY" in caplog.text


async def test_a_quota_wait_is_queued_as_such_and_recorded_as_the_quota_wait_metric(
    telemetry: Captured,
) -> None:
    world = fake_world(**QUOTA)
    jobs = [await submit(world) for _ in range(3)]
    world.job_queue.take()
    for job in jobs:
        await deliver(world, JobMessage(job_id=job.id, tenant_id=TENANT))

    (back,) = world.job_queue.take()
    message = JobMessage.model_validate_json(back.content)
    assert message.job_id == jobs[2].id and message.reason == "quota"
    ((attributes, waits),) = telemetry.points("imagegen.jobs.quota_wait")
    assert waits == 1 and attributes == {"imagegen.provider": "gemini", "imagegen.model": MODEL.split("/")[1]}
    waited = [
        s
        for s in telemetry.finished("imagegen.job.process")
        if _attributes(s)["imagegen.outcome"] == "quota_wait"
    ]
    assert message.due_at is not None and message.queued_at is not None
    delay = (message.due_at - message.queued_at).total_seconds()
    assert [_attributes(s)["imagegen.quota.wait_s"] for s in waited] == [delay]
