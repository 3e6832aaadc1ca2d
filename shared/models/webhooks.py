"""Webhooks: what a job asks to be told, the signed delivery's body, and the queue message carrying it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shared.models.common import ApiModel, StoredModel, UtcDateTime
from shared.models.jobs import JobError, JobStatus, WebhookEvent
from shared.telemetry.w3c import Traceparent, Tracestate

WEBHOOK_SECRET_DOCUMENT_ID: Literal["webhookSecret"] = "webhookSecret"


class WebhookOutput(ApiModel):
    id: str
    url: str
    # A late delivery's SAS `url` may have expired: the permanent link has not (null without signing keys).
    permanent_url: str | None = None
    mime_type: str
    width: int
    height: int


class WebhookJobData(ApiModel):
    """The job as a delivery shows it: its state when the event happened."""

    id: str
    status: JobStatus
    created_at: UtcDateTime
    completed_at: UtcDateTime | None = None
    preset_id: str | None = None
    outputs: list[WebhookOutput] = Field(default_factory=list)
    error: JobError | None = None
    status_query_get_uri: str | None = None


class WebhookPayload(ApiModel):
    """The body of a delivery (Standard Webhooks: `type`, `timestamp`, `data`)."""

    type: str  # job.queued, job.running, job.completed
    timestamp: UtcDateTime
    data: WebhookJobData


class WebhookMessage(ApiModel):
    """One delivery on the `webhooks` queue. The body is frozen when the event happens, so a late
    delivery still describes that moment."""

    webhook_id: str = Field(description="Stable across retries: `{jobId}.{event}`.")
    tenant_id: str
    job_id: str
    url: str
    body: str
    attempt: int = 1
    traceparent: Traceparent = None  # the job's trace: deliveries are spans of it
    tracestate: Tracestate = None


class WebhookSecretDocument(StoredModel):
    """A tenant's signing secret (container `webhooks`, partition key `/tenantId`)."""

    id: Literal["webhookSecret"] = WEBHOOK_SECRET_DOCUMENT_ID
    tenant_id: str
    doc_type: Literal["webhookSecret"] = "webhookSecret"
    secret: str
    created_at: UtcDateTime


class WebhookSecretView(ApiModel):
    """`GET /api/v1/webhooks/secret`: the key deliveries are signed with (`whsec_` + base64)."""

    secret: str
    signature_scheme: str = (
        "Standard Webhooks v1 (HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`)"
    )


def event_type(event: WebhookEvent) -> str:
    return f"job.{event}"


def as_dict(payload: WebhookPayload) -> dict[str, Any]:
    return payload.model_dump(mode="json", by_alias=True)
