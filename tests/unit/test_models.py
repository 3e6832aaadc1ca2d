from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.models.jobs import ASPECT_RATIOS, GenerationRequest, GenerationSpec, JobDocument, JobStatus
from shared.models.messages import JobMessage


def test_request_defaults_and_camel_case() -> None:
    request = GenerationRequest.model_validate({"prompt": "  a cat  ", "aspectRatio": "16:9"})

    assert request.prompt == "a cat"
    assert request.aspect_ratio == "16:9"
    assert request.provider is None and request.model is None
    assert GenerationRequest.model_validate({"prompt": "x"}).aspect_ratio == "1:1"


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": ""},
        {"prompt": "   "},
        {"prompt": "x" * 4001},
        {"prompt": "x", "aspectRatio": "5:3"},
        {"prompt": "x", "sampleCount": 2},
    ],
)
def test_request_rejects(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GenerationRequest.model_validate(body)


def test_every_seed_aspect_ratio_is_accepted() -> None:
    assert len(ASPECT_RATIOS) == 18
    for ratio in ASPECT_RATIOS:
        assert GenerationRequest.model_validate({"prompt": "x", "aspectRatio": ratio}).aspect_ratio == ratio


def test_job_document_serializes_camel_case_with_millisecond_utc_timestamps() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    job = JobDocument(
        id="j1",
        tenant_id="t1",
        status=JobStatus.QUEUED,
        spec=GenerationSpec(prompt="p", provider="gemini", model="m", aspect_ratio="1:1"),
        created_at=moment,
        updated_at=moment,
    )

    stored = job.model_dump(mode="json")

    assert stored["tenantId"] == "t1"
    assert stored["docType"] == "job"
    assert stored["createdAt"] == "2026-01-02T03:04:05.000Z"
    assert stored["spec"]["aspectRatio"] == "1:1"
    round_trip = JobDocument.model_validate({**stored, "_etag": "x", "_ts": 1})
    assert round_trip == job


def test_terminal_statuses() -> None:
    assert {s for s in JobStatus if s.is_terminal} == {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.CANCELED,
    }


def test_queue_message_carries_ids_and_trace_context_never_the_request() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    message = JobMessage(job_id="j", tenant_id="t", traceparent=traceparent)

    assert message.model_dump_json(exclude_none=True) == (
        f'{{"jobId":"j","tenantId":"t","traceparent":"{traceparent}"}}'
    )
    # Ids alone are a job message; a damaged trace context is dropped, never an error.
    assert JobMessage.model_validate_json('{"jobId":"j","tenantId":"t"}').traceparent is None
    damaged = JobMessage.model_validate_json(
        '{"jobId":"j","tenantId":"t","traceparent":"00-zz","reason":"?"}'
    )
    assert damaged.traceparent is None and damaged.job_id == "j"
