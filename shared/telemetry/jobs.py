"""A job's telemetry: its spans, named once, and the metrics recorded at each step of its life.

One trace per job. The submit's span context is stored on the job (`traceparent`, `tracestate`) and
carried by every queue message of the job (shared/models/messages.py), and every later span of the job
(each message's time on the queue, each worker delivery, each provider call, the upload, the webhook
deliveries, the thumbnail, the sweeper's and the poison trigger's work) is a child of it. Those spans
are parented to the job's context rather than linked to it because a job is one unit of work with a
bounded life (JOB_DEADLINE_MINUTES): one trace answers "why did job X take 40 s" by itself, and an
operator finds it from the job's `traceId` alone. What the span would otherwise have been a child of,
the host's own invocation span, is kept as a link.

Metrics that count a job's ending or its credits are recorded by the callers only where their write
applied (the one terminal write, the one settlement), so each job counts once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from shared.models.common import utc_now
from shared.models.jobs import JobDocument
from shared.models.messages import JobMessage
from shared.providers.base import ProviderError
from shared.telemetry import instruments
from shared.telemetry.setup import current_job_id
from shared.telemetry.tracing import (
    SpanAttributes,
    SpanKind,
    SpanLike,
    TraceCarrier,
    annotate,
    finished_span,
    span,
)

# Attribute names, on spans, metrics and log records alike.
JOB_ID = "imagegen.job.id"
TENANT_ID = "imagegen.tenant.id"
STATUS = "imagegen.job.status"
ATTEMPT = "imagegen.job.attempt"
RUN_ID = "imagegen.job.run_id"
PROVIDER = "imagegen.provider"
MODEL = "imagegen.model"
OUTCOME = "imagegen.outcome"
OUTCOME_REASON = "imagegen.outcome.reason"
QUEUE_REASON = "imagegen.queue.reason"
ERROR_TYPE = "error.type"

# Span names.
SUBMIT = "imagegen.job.submit"
QUEUED = "imagegen.job.queued"
PROCESS = "imagegen.job.process"
PROVIDER_CALL = "imagegen.provider.call"
ENHANCE = "imagegen.prompt.enhance"
UPLOAD = "imagegen.image.upload"
FINISH = "imagegen.job.finish"
CANCEL = "imagegen.job.cancel"
POISONED = "imagegen.job.poisoned"
SWEEP = "imagegen.job.sweep"
WEBHOOK_DELIVERY = "imagegen.webhook.deliver"
THUMBNAIL = "imagegen.thumbnail"


def _job_attributes(job: JobDocument) -> dict[str, str]:
    return {JOB_ID: job.id, TENANT_ID: job.tenant_id, PROVIDER: job.spec.provider, MODEL: job.spec.model}


def _model_attributes(job: JobDocument) -> dict[str, str]:
    return {PROVIDER: job.spec.provider, MODEL: job.spec.model}


@contextmanager
def job_span(
    name: str,
    carrier: TraceCarrier,
    job_id: str,
    attributes: SpanAttributes | None = None,
    *,
    kind: SpanKind = "internal",
    is_error: Callable[[BaseException], bool] = lambda _: True,
) -> Iterator[SpanLike]:
    """A span of the job's trace (whatever is current: the host's invocation becomes a link); log
    records written inside it carry the job's id."""
    token = current_job_id.set(job_id)
    try:
        attributes = {JOB_ID: job_id, **(attributes or {})}
        with span(name, attributes, kind=kind, parent=carrier, link_ambient=True, is_error=is_error) as s:
            yield s
    finally:
        current_job_id.reset(token)


def job_created(job: JobDocument) -> None:
    """The submit made `job`: its span, and the log records written for it from now on, name the job."""
    current_job_id.set(job.id)
    annotate(_job_attributes(job))


def job_submitted(job: JobDocument, *, replayed: bool = False) -> None:
    """The submit stored and queued `job` (or, `replayed`, returned it again for its Idempotency-Key)."""
    if replayed:
        job_created(job)
        annotate({"imagegen.job.replayed": True})
    else:
        instruments.add(instruments.JOBS_SUBMITTED, 1, _model_attributes(job))


@contextmanager
def job_delivery(message: JobMessage, *, delivery: int = 1) -> Iterator[SpanLike]:
    """One delivery of a job's message to the worker: the time the message spent on the queue (first
    delivery only: a redelivery's wait is the host's retry delay), then the delivery's own span."""
    now = utc_now()
    if delivery <= 1 and message.queued_at is not None:
        delay = (message.due_at - message.queued_at).total_seconds() if message.due_at else 0.0
        finished_span(
            QUEUED,
            message.queued_at,
            now,
            parent=message,
            attributes={
                JOB_ID: message.job_id,
                QUEUE_REASON: message.reason,
                "imagegen.queue.delay_s": delay,
            },
        )
    attributes: SpanAttributes = {TENANT_ID: message.tenant_id, "messaging.message.delivery_count": delivery}
    with job_span(PROCESS, message, message.job_id, attributes, kind="consumer") as s:
        yield s


def job_claimed(message: JobMessage, job: JobDocument, run_id: str) -> None:
    """This delivery's run owns the job: its attempt, and how long the job waited for it."""
    annotate({**_job_attributes(job), ATTEMPT: job.attempts, RUN_ID: run_id, OUTCOME: "claimed"})
    if message.due_at is not None:
        wait = (utc_now() - message.due_at).total_seconds()
        instruments.record(instruments.QUEUE_WAIT, wait, {QUEUE_REASON: message.reason or "unknown"})


def job_not_run(outcome: str, reason: str) -> None:
    """This delivery ran nothing: `dropped` (the job ended), `deferred` (claimed elsewhere, or backing
    off), `gave_up` (out of attempts or past its deadline)."""
    annotate({OUTCOME: outcome, OUTCOME_REASON: reason})


@contextmanager
def provider_call(job: JobDocument, provider: str, model: str, *, fallback: bool) -> Iterator[SpanLike]:
    """One provider call of the job's attempt: a client span (provider, model, attempt, fallback; on
    failure its error code, whether it is transient, the Retry-After) and its latency by outcome."""
    attributes: SpanAttributes = {
        JOB_ID: job.id,
        PROVIDER: provider,
        MODEL: model,
        ATTEMPT: job.attempts,
        "imagegen.fallback": fallback,
        "imagegen.images": job.spec.n,
    }
    outcome = "ok"
    started = time.perf_counter()
    try:
        with span(PROVIDER_CALL, attributes, kind="client") as s:
            try:
                yield s
            except ProviderError as error:
                outcome = str(error.code)
                s.set_attributes({"imagegen.transient": error.transient, ERROR_TYPE: outcome})
                if error.retry_after is not None:
                    s.set_attribute("imagegen.retry_after_s", error.retry_after)
                raise
            except Exception as error:
                outcome = type(error).__qualname__
                raise
    finally:
        instruments.record(
            instruments.PROVIDER_CALL_DURATION,
            time.perf_counter() - started,
            {PROVIDER: provider, MODEL: model, OUTCOME: outcome, "imagegen.fallback": fallback},
        )


@contextmanager
def image_upload(container: str, blob_name: str) -> Iterator[SpanLike]:
    """Writing one of the job's images to Blob Storage (the SDK's own spans nest inside)."""
    with span(UPLOAD, {"imagegen.blob.container": container, "imagegen.blob.name": blob_name}) as s:
        yield s


def job_retry_queued(job: JobDocument, error: ProviderError, delay_seconds: int) -> None:
    """A transient failure queued the job again (`delay_seconds` of back-off)."""
    annotate({OUTCOME: "retry", ERROR_TYPE: str(error.code), "imagegen.retry.delay_s": delay_seconds})
    instruments.add(instruments.RETRIES, 1, {**_model_attributes(job), ERROR_TYPE: str(error.code)})


def quota_wait(job: JobDocument, provider: str, model: str, seconds: float) -> None:
    """The job was put back to wait `seconds` for `provider/model`'s quota (not an attempt). For the
    scheduler that decides quota waits; the wait itself shows as the next `imagegen.job.queued` span,
    with `imagegen.queue.reason` `quota`."""
    annotate({OUTCOME: "quota_wait", "imagegen.quota.wait_s": seconds, PROVIDER: provider, MODEL: model})
    instruments.record(instruments.QUOTA_WAIT, seconds, {PROVIDER: provider, MODEL: model})


def job_ended(job: JobDocument) -> None:
    """Call where the job's terminal write applied (and only there): counts the ending once, with its
    submit-to-end time."""
    attributes: dict[str, str] = {STATUS: str(job.status), **_model_attributes(job)}
    if job.error is not None:
        attributes[ERROR_TYPE] = job.error.code
    seconds = _seconds_between(job.created_at, job.completed_at or utc_now())
    annotate({**attributes, "imagegen.job.duration_s": round(seconds, 3)})
    instruments.add(instruments.JOBS_ENDED, 1, attributes)
    instruments.record(instruments.JOB_DURATION, seconds, attributes)


def credits_settled(amount: int, *, charged: bool) -> None:
    """Call where the settlement's write applied (each job's reservation is settled once)."""
    instruments.add(instruments.CREDITS_CHARGED if charged else instruments.CREDITS_REFUNDED, amount)


def webhook_delivery_outcome(outcome: str, status: int | None = None) -> None:
    """`delivered`, `retry` or `given_up`, with the receiver's HTTP status when it answered."""
    annotate({OUTCOME: outcome, "http.response.status_code": status})
    instruments.add(instruments.WEBHOOK_DELIVERIES, 1, {OUTCOME: outcome})


def thumbnail_outcome(outcome: str) -> None:
    annotate({OUTCOME: outcome})
    instruments.add(instruments.THUMBNAILS, 1, {OUTCOME: outcome})


def _seconds_between(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())
