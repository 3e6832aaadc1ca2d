"""One trace per job, read back from the stack's OpenTelemetry export (OTLP JSON lines on disk): from the
submit through the queue and the worker to the provider call, the upload, the webhook and the thumbnail;
with the job's metrics and log records."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.stack.stack import LocalStack
from devtools.trace import Span, job_trace, read_spans
from tests.integration.conftest import Simulator, submit, unique_prompt, wait_for_terminal
from tests.integration.webhook_receiver import Receiver

pytestmark = pytest.mark.integration


def _spans_of(stack: LocalStack, job_id: str) -> list[Span]:
    flat: list[Span] = []
    pending = job_trace(read_spans(stack.telemetry_dir), job_id)
    while pending:
        span = pending.pop()
        flat.append(span)
        pending.extend(span.children)
    return flat


def wait_for_spans(
    stack: LocalStack, job_id: str, ready: Callable[[list[Span]], bool], timeout: float = 30
) -> list[Span]:
    """The job's spans once `ready` holds (a span is written when it ends: the worker's delivery span
    ends after the job is already stored as ended)."""
    deadline = time.monotonic() + timeout
    while True:
        spans = _spans_of(stack, job_id)
        if ready(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.2)


def named(spans: list[Span], name: str) -> list[Span]:
    return sorted((s for s in spans if s.name == name), key=lambda s: s.start_ns)


def _has(*names: str) -> Callable[[list[Span]], bool]:
    return lambda spans: all(named(spans, name) for name in names)


def test_one_trace_runs_from_the_submit_through_the_worker_to_the_provider_call_and_the_upload(
    api: httpx.Client, stack: LocalStack, receiver: Receiver
) -> None:
    hook = receiver.path()
    job = submit(api, prompt=unique_prompt("a traced lighthouse"), webhook=receiver.url(hook))
    done = wait_for_terminal(api, job["id"])
    receiver.wait_for(hook, 1)
    spans = wait_for_spans(
        stack,
        job["id"],
        lambda spans: (
            _has("imagegen.job.process", "imagegen.webhook.deliver", "BlobClient.upload_blob")(spans)
            and any(
                t.attributes.get("imagegen.outcome") == "created" for t in named(spans, "imagegen.thumbnail")
            )
        ),
    )

    assert done["status"] == "succeeded"
    assert job["traceId"] == done["traceId"] and len(done["traceId"]) == 32
    (submit_span,) = named(spans, "imagegen.job.submit")
    (queued,) = named(spans, "imagegen.job.queued")
    (process,) = named(spans, "imagegen.job.process")
    (call,) = named(spans, "imagegen.provider.call")
    (upload,) = named(spans, "imagegen.image.upload")
    # Every span of the job, the Azure SDKs' included, is in the one trace the job shows.
    assert {s.trace_id for s in spans} == {done["traceId"]}
    assert submit_span.attributes["imagegen.job.id"] == job["id"]
    # The queue wait and the worker's delivery continue the submit's span across the queue.
    assert queued.parent_id == submit_span.span_id and process.parent_id == submit_span.span_id
    assert queued.attributes["imagegen.queue.reason"] == "submit"
    assert queued.start_ns >= submit_span.start_ns and queued.end_ns <= process.start_ns + 1_000_000
    assert process.kind == "consumer" and process.attributes["imagegen.job.attempt"] == 1
    assert process.attributes["imagegen.job.status"] == "succeeded"
    # The provider call and the upload happen inside the worker's delivery, with what they did.
    assert call.parent_id == process.span_id and call.kind == "client"
    assert call.attributes["imagegen.job.attempt"] == 1
    assert call.attributes["imagegen.provider"] == done["provider"] == "gemini"
    assert call.attributes["imagegen.model"] == done["model"]
    assert call.attributes["imagegen.fallback"] is False and call.error is None
    assert upload.parent_id == process.span_id
    assert upload.attributes["imagegen.blob.name"].endswith(f"{job['id']}-0.png")
    (blob_upload,) = [
        s for s in spans if s.name == "BlobClient.upload_blob" and s.parent_id == upload.span_id
    ]
    assert any(c.name == "PUT" and c.kind == "client" for c in blob_upload.children)
    # Cosmos DB writes through azure-core's tracing plugin, on the async client, inside the job's spans.
    cosmos = [s for s in spans if s.name.startswith("ContainerProxy.")]
    assert {s.parent_id for s in cosmos} >= {submit_span.span_id, process.span_id}
    # The webhook delivery and the Event Grid thumbnail are spans of the same trace (an event that came
    # before the output was recorded is one too: `early`, then delivered again).
    (delivery,) = named(spans, "imagegen.webhook.deliver")
    assert delivery.attributes["imagegen.outcome"] == "delivered"
    assert delivery.attributes["http.response.status_code"] == 200
    thumbnails = [t.attributes["imagegen.outcome"] for t in named(spans, "imagegen.thumbnail")]
    assert thumbnails[-1] == "created" and set(thumbnails) <= {"early", "created"}


def test_a_retried_job_shows_each_attempt_and_the_wait_between_them_in_one_trace(
    api: httpx.Client, stack: LocalStack, simulator: Simulator
) -> None:
    model = "gemini-3.1-flash-image-preview"
    simulator.fault("http_429", model=model, retry_after=1)
    job = submit(api, prompt=unique_prompt("a retried harbour"), model=model)
    done = wait_for_terminal(api, job["id"])
    spans = wait_for_spans(stack, job["id"], lambda s: len(named(s, "imagegen.job.process")) >= 2)

    assert done["status"] == "succeeded" and done["retryCount"] == 1
    first, second = named(spans, "imagegen.provider.call")
    assert (first.attributes["imagegen.job.attempt"], second.attributes["imagegen.job.attempt"]) == (1, 2)
    assert first.error == "PROVIDER_UNAVAILABLE"
    assert first.attributes["imagegen.transient"] is True
    assert first.attributes["imagegen.retry_after_s"] == 1
    assert second.error is None and second.attributes["imagegen.model"] == model
    runs = named(spans, "imagegen.job.process")
    assert [r.attributes["imagegen.outcome"] for r in runs] == ["retry", "claimed"]
    assert [q.attributes["imagegen.queue.reason"] for q in named(spans, "imagegen.job.queued")] == [
        "submit",
        "retry",
    ]
    assert {s.trace_id for s in spans} == {done["traceId"]}


def test_a_fallback_call_is_its_own_span_marked_as_the_fallback(
    api: httpx.Client, stack: LocalStack, simulator: Simulator
) -> None:
    model = "gemini-2.0-flash-preview-image-generation"  # falls back to azure-openai/gpt-image-2
    simulator.fault("http_503", model=model)
    job = submit(api, prompt=unique_prompt("a fallback"), model=model)
    done = wait_for_terminal(api, job["id"])
    spans = wait_for_spans(stack, job["id"], lambda s: len(named(s, "imagegen.provider.call")) >= 2)

    assert done["servedBy"] == "azure-openai/gpt-image-2"
    gemini, fallback = named(spans, "imagegen.provider.call")
    assert (gemini.attributes["imagegen.provider"], gemini.attributes["imagegen.fallback"]) == (
        "gemini",
        False,
    )
    assert gemini.error == "PROVIDER_UNAVAILABLE"
    assert fallback.attributes["imagegen.provider"] == "azure-openai"
    assert fallback.attributes["imagegen.model"] == "gpt-image-2"
    assert fallback.attributes["imagegen.fallback"] is True and fallback.error is None


def test_a_callers_traceparent_makes_the_job_part_of_the_callers_trace(api: httpx.Client) -> None:
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = api.post(
        "/v1/images/generations",
        json={"prompt": unique_prompt("a caller's trace")},
        headers={"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"},
    )

    assert response.status_code == 202
    assert response.json()["traceId"] == caller_trace
    wait_for_terminal(api, response.json()["id"])


def _records(path: Path, key: str, inner: str, items: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for line in path.read_text().splitlines() if path.exists() else []:
        for resource in json.loads(line)[key]:
            for scope in resource[inner]:
                found.extend(scope[items])
    return found


def _attributes(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: next(iter(a["value"].values())) for a in record.get("attributes", [])}


def test_log_records_carry_the_job_id_and_its_trace_id_and_metrics_count_the_job(
    api: httpx.Client, stack: LocalStack
) -> None:
    job = submit(api, prompt=unique_prompt("a logged lighthouse"))
    done = wait_for_terminal(api, job["id"])
    logs = stack.telemetry_dir / "logs.jsonl"
    deadline = time.monotonic() + 15
    while True:
        records = [
            r
            for r in _records(logs, "resourceLogs", "scopeLogs", "logRecords")
            if _attributes(r).get("imagegen.job.id") == job["id"]
        ]
        if any("ended succeeded" in r["body"]["stringValue"] for r in records) or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    messages = [r["body"]["stringValue"] for r in records]
    assert any("queued for tenant" in m for m in messages), messages
    assert any("ended succeeded" in m for m in messages), messages
    assert {r["traceId"] for r in records} == {done["traceId"]}
    # The metrics file (deltas, every OTEL_METRIC_EXPORT_INTERVAL) counts jobs by status and model.
    metrics = stack.telemetry_dir / "metrics.jsonl"
    deadline = time.monotonic() + 15
    while True:
        ended = [
            point
            for metric in _records(metrics, "resourceMetrics", "scopeMetrics", "metrics")
            if metric["name"] == "imagegen.jobs.ended"
            for point in metric["sum"]["dataPoints"]
            if _attributes(point).get("imagegen.model") == done["model"]
            and _attributes(point).get("imagegen.job.status") == "succeeded"
        ]
        if ended or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert ended and all(int(point["asInt"]) >= 1 for point in ended)


def test_devtools_trace_prints_the_jobs_tree_with_durations(api: httpx.Client, stack: LocalStack) -> None:
    job = submit(api, prompt=unique_prompt("a printed trace"))
    done = wait_for_terminal(api, job["id"])
    wait_for_spans(stack, job["id"], _has("imagegen.job.process"))

    output = subprocess.run(
        [sys.executable, "-m", "devtools.trace", job["id"], "--dir", str(stack.telemetry_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    header, *lines = output.splitlines()
    assert header.startswith(f"job {job['id']}  trace {done['traceId']}")
    submit_line = next(line for line in lines if "imagegen.job.submit" in line)
    call_line = next(line for line in lines if "imagegen.provider.call" in line)
    # Indented under its parent (the delivery, under the submit), with offset and duration.
    depth = lambda line: len(line.split(" ms  ", 1)[1]) - len(line.split(" ms  ", 1)[1].lstrip())  # noqa: E731
    assert depth(call_line) == depth(submit_line) + 4
    assert " ms  " in call_line and "attempt=1" in call_line and f"model={done['model']}" in call_line
