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


def test_queue_message_carries_only_ids() -> None:
    assert JobMessage(job_id="j", tenant_id="t").model_dump_json() == '{"jobId":"j","tenantId":"t"}'
