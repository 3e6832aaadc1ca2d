"""Seed 000's translation: the documented request to a native one, and a failed job to its answer."""

from __future__ import annotations

import pytest

from shared.compat.seed000 import FAILURES, configured_model, generation_request, in_seed_terms
from shared.compat.seed000_models import ImageEditRequest
from shared.errors import ApiError
from shared.models.jobs import JobError, JobStatus
from shared.settings import Settings
from tests.fakes.jobs import stored_job

# A 16x16 PNG.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAGUlEQVR4nGM8EaDBQApgIkn1"
    "qIZRDUNKAwAGbAFge9OrNwAAAABJRU5ErkJggg=="
)


def _settings(**values: str) -> Settings:
    return Settings(COSMOS_ENDPOINT="https://x", **values)


def test_urls_are_fetched_and_everything_else_is_inline_base64() -> None:
    body = ImageEditRequest.model_validate(
        {
            "images": [
                "https://images.example.com/a.png",
                f"data:image/png;base64,{PNG_B64}",
                f"  {PNG_B64}  ",
                "HTTP://images.example.com/b.png",
            ],
            "prompt": "  make it blue ",
            "somethingElse": 1,
        }
    )

    request, input_urls = generation_request(_settings(), body)

    assert request.prompt == "make it blue"
    assert [(ref.url, ref.b64) for ref in request.reference_images] == [
        ("https://images.example.com/a.png", None),
        (None, f"data:image/png;base64,{PNG_B64}"),
        (None, PNG_B64),
        ("HTTP://images.example.com/b.png", None),
    ]
    assert input_urls == ["https://images.example.com/a.png", None, None, "HTTP://images.example.com/b.png"]
    assert request.provider is None and request.model is None


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("gemini-3-pro-image-preview", (None, "gemini-3-pro-image-preview")),
        ("gemini/gemini-3-pro-image-preview", ("gemini", "gemini-3-pro-image-preview")),
        ("azure-openai/gpt-image-1", ("azure-openai", "gpt-image-1")),
    ],
)
def test_the_model_setting(setting: str | None, expected: tuple[str | None, str | None]) -> None:
    settings = _settings() if setting is None else _settings(SEED000_MODEL=setting)

    assert configured_model(settings) == expected
    body = ImageEditRequest(images=[PNG_B64], prompt="p")
    request, _ = generation_request(settings, body)
    assert (request.provider, request.model) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "No images provided"),
        ({"images": "x", "prompt": "p"}, "No images provided"),
        ({"images": [], "prompt": "p"}, "No images provided"),
        ({"images": [PNG_B64]}, "No prompt provided"),
        ({"images": [PNG_B64], "prompt": " "}, "No prompt provided"),
        ({"images": [PNG_B64] * 6, "prompt": "p"}, "Too many images: 6; at most 5 are accepted."),
        ({"images": [PNG_B64, ""], "prompt": "p"}, "images[1] is empty"),
        ({"images": [PNG_B64], "prompt": "p" * 4001}, "Invalid request: prompt:"),
        ({"images": ["https://x/" + "a" * 5000], "prompt": "p"}, "Invalid request: images[0]: String should"),
    ],
)
def test_refusals(body: dict[str, object], message: str) -> None:
    with pytest.raises(ApiError) as refused:
        generation_request(_settings(), ImageEditRequest.model_validate(body))

    assert refused.value.status == 400
    assert refused.value.message.startswith(message), refused.value.message


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("CONTENT_POLICY", 422),
        ("INVALID_INPUT", 400),
        ("NO_IMAGE", 502),
        ("PROVIDER_UNAVAILABLE", 503),
        ("SERVICE_UNAVAILABLE", 503),
        ("TIMEOUT", 504),
        ("PROCESSING_FAILED", 500),
        ("SOMETHING_NEW", 500),
    ],
)
def test_failed_jobs_answer_by_their_code(code: str, status: int) -> None:
    error = FAILURES.error(stored_job(JobStatus.FAILED, JobError(code=code, message="why")))

    assert (error.status, error.code, error.message) == (status, code, "why")


def test_a_canceled_job_is_409() -> None:
    error = FAILURES.error(stored_job(JobStatus.CANCELED))

    assert (error.status, error.code) == (409, "CANCELED")


def test_native_400s_name_the_seed_field_and_others_pass_unchanged() -> None:
    native = ApiError(
        400,
        "VALIDATION_ERROR",
        "Invalid request: referenceImages[2].url: refused; referenceImages.3.b64: not base64",
        details=[
            {"field": "referenceImages[2].url", "message": "refused"},
            {"field": "referenceImages.3.b64", "message": "not base64"},
        ],
        headers={"A": "b"},
    )
    other = ApiError(402, "INSUFFICIENT_CREDITS", "referenceImages[0] costs")

    renamed = in_seed_terms(native)

    assert renamed.message == "Invalid request: images[2]: refused; images[3]: not base64"
    assert [item["field"] for item in renamed.details] == ["images[2]", "images[3]"]
    assert renamed.headers == {"A": "b"}
    assert in_seed_terms(other) is other
