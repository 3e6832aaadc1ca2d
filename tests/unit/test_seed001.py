"""Seed 001's pure parts: the request mapping, the statuses and the error answers."""

from __future__ import annotations

import json

import pytest

from shared.compat.seed001 import native_request
from shared.compat.seed001 import render_error as render_seed001_error
from shared.compat.seed001_models import CreateGenerationRequest, GenerationStatus
from shared.errors import ApiError, not_found
from shared.models.jobs import JobStatus


def test_the_documented_defaults_map_to_native_enhancement() -> None:
    request = CreateGenerationRequest.model_validate({"prompt": "a cat"})

    native = native_request(request)

    assert request.auto_enhance is True and request.aspect_ratio == "1:1" and request.meta == {}
    assert native.auto_enhance is True and native.enhancement_template == "general"
    assert native.meta == {}


def test_template_and_meta_reach_the_native_request() -> None:
    request = CreateGenerationRequest.model_validate(
        {
            "prompt": "a cat",
            "aspectRatio": "21:9",
            "enhancementOptions": {"template": "comic"},
            "meta": {"a": 1},
        }
    )

    native = native_request(request)

    assert native.enhancement_template == "comic" and native.aspect_ratio == "21:9"
    assert native.meta == {"a": 1}


def test_without_enhancement_no_template_is_sent() -> None:
    request = CreateGenerationRequest.model_validate(
        {"prompt": "a cat", "autoEnhance": False, "enhancementOptions": {"template": "comic"}}
    )

    native = native_request(request)

    assert native.auto_enhance is False and native.enhancement_template is None


def test_statuses_map_both_ways() -> None:
    assert GenerationStatus.from_job(JobStatus.QUEUED) is GenerationStatus.PENDING
    assert GenerationStatus.from_job(JobStatus.CANCELED) is GenerationStatus.FAILED
    assert set(GenerationStatus.FAILED.job_statuses()) == {JobStatus.FAILED, JobStatus.CANCELED}
    assert GenerationStatus.SUCCESS.job_statuses() == (JobStatus.SUCCEEDED,)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (not_found("Job 'x'"), 404, "GENERATION_NOT_FOUND"),
        (ApiError(400, "INVALID_INPUT", "bad"), 400, "VALIDATION_ERROR"),
        (
            ApiError(429, "RATE_LIMIT_EXCEEDED", "slow down", headers={"Retry-After": "5"}),
            429,
            "RATE_LIMIT_EXCEEDED",
        ),
        (ApiError(402, "INSUFFICIENT_CREDITS", "top up"), 402, "INSUFFICIENT_CREDITS"),
    ],
)
def test_errors_are_answered_in_the_seed_shape(error: ApiError, status: int, code: str) -> None:
    response = render_seed001_error(error)

    body = json.loads(response.get_body())
    assert response.status_code == status
    assert body == {"success": False, "error": {"code": code, "message": error.message, "details": None}}
    assert dict(response.headers).items() >= error.headers.items()
