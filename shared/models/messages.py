"""Queue messages: ids (claim-check), never the payload; a queue message is at most 64 KB.

A job's message also carries the job's trace context (so the worker continues the job's trace) and when
and why it was sent (so the time it spent on the queue is measured); all of that is optional, and a
message of ids alone is a job message too.

The service sends messages as plain JSON text and the host hands them over undecoded (host.json
`messageEncoding: none`), so every trigger, the poison queue's included, receives exactly what was sent
and decides itself what to do with a message that is not one of ours. Base64-encoded JSON (what many
tools send by default, and what earlier versions of this service sent) is accepted too.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from shared.models.common import ApiModel, UtcDateTime
from shared.telemetry.w3c import Traceparent, Tracestate

if TYPE_CHECKING:
    from shared.models.jobs import JobDocument


class QueueReason(StrEnum):
    """Why a job's message was sent."""

    SUBMIT = "submit"
    RETRY = "retry"  # a transient provider failure's back-off
    DEFERRED = "deferred"  # a duplicate delivery put back until the job's claim or back-off ends
    RECOVERY = "recovery"  # the sweeper, or a replayed submit, queued a job whose message may be lost
    QUOTA = "quota"  # put back to wait for provider quota


class JobMessage(ApiModel):
    job_id: str
    tenant_id: str
    traceparent: Traceparent = None
    tracestate: Tracestate = None
    # Stamped by JobQueue.enqueue: when it was sent, when it became visible (after its delay), and why.
    queued_at: UtcDateTime | None = None
    due_at: UtcDateTime | None = None
    reason: str | None = None  # a QueueReason; any text is accepted from a message

    @classmethod
    def for_job(cls, job: JobDocument) -> JobMessage:
        return cls(
            job_id=job.id, tenant_id=job.tenant_id, traceparent=job.traceparent, tracestate=job.tracestate
        )


def parse_queue_message[M: BaseModel](body: bytes, model: type[M]) -> M:
    """The message as `model`: JSON text, or base64 of it. ValidationError when it is neither."""
    try:
        return model.model_validate_json(body)
    except ValidationError as as_text:
        try:
            decoded = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise as_text from None
        if not decoded.lstrip().startswith(b"{"):
            raise as_text from None
        return model.model_validate_json(decoded)
