"""How parameters and provider answers map, without a network."""

from __future__ import annotations

import pytest
from google.genai import types

from shared.models.errors import ErrorCode
from shared.providers.azure_openai import nearest_size
from shared.providers.base import ProviderError, parse_retry_after
from shared.providers.catalog import ModelFamily
from shared.providers.gemini import _read_response


@pytest.mark.parametrize(
    ("family", "ratio", "size"),
    [
        (ModelFamily.GPT_IMAGE, "1:1", "1024x1024"),
        (ModelFamily.GPT_IMAGE, "16:9", "1536x1024"),
        (ModelFamily.GPT_IMAGE, "9:16", "1024x1536"),
        (ModelFamily.GPT_IMAGE, "5:4", "1024x1024"),
        (ModelFamily.DALL_E_3, "21:9", "1792x1024"),
        (ModelFamily.DALL_E_3, "9:19.5", "1024x1792"),
    ],
)
def test_nearest_azure_size(family: ModelFamily, ratio: str, size: str) -> None:
    assert nearest_size(family, ratio) == size


def _response(parts: list[types.Part], finish: str = "STOP") -> types.GenerateContentResponse:
    return types.GenerateContentResponse(
        candidates=[types.Candidate(content=types.Content(role="model", parts=parts), finish_reason=finish)]
    )


def test_gemini_image_and_text_parts_are_read() -> None:
    result = _read_response(
        _response(
            [
                types.Part(text="here"),
                types.Part(inline_data=types.Blob(data=b"\x89PNG", mime_type="image/png")),
            ]
        )
    )

    assert [image.data for image in result.images] == [b"\x89PNG"]
    assert result.text == "here"


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (_response([], finish="IMAGE_SAFETY"), ErrorCode.CONTENT_POLICY),
        (_response([types.Part(text="no")], finish="SAFETY"), ErrorCode.CONTENT_POLICY),
        (
            types.GenerateContentResponse(
                prompt_feedback=types.GenerateContentResponsePromptFeedback(block_reason="SAFETY")
            ),
            ErrorCode.CONTENT_POLICY,
        ),
        (_response([types.Part(text="only words")]), ErrorCode.NO_IMAGE),
        (types.GenerateContentResponse(candidates=[]), ErrorCode.NO_IMAGE),
    ],
)
def test_gemini_answers_without_an_image_are_classified(
    response: types.GenerateContentResponse, code: ErrorCode
) -> None:
    with pytest.raises(ProviderError) as error:
        _read_response(response)
    assert error.value.code == code
    assert not error.value.transient


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "transient", "retry_after"),
    [
        (
            400,
            {"error": {"code": "content_policy_violation", "message": "no"}},
            {},
            "CONTENT_POLICY",
            False,
            None,
        ),
        (
            400,
            {
                "error": {
                    "code": "invalid_request_error",
                    "inner_error": {"code": "ResponsibleAIPolicyViolation"},
                }
            },
            {},
            "CONTENT_POLICY",
            False,
            None,
        ),
        (
            400,
            {"error": {"code": "invalid_request_error", "message": "bad size"}},
            {},
            "INVALID_INPUT",
            False,
            None,
        ),
        (429, {"error": {"code": "429"}}, {"retry-after": "7"}, "PROVIDER_UNAVAILABLE", True, 7.0),
        (503, {"error": {"code": "503"}}, {}, "PROVIDER_UNAVAILABLE", True, None),
    ],
)
def test_azure_status_errors_are_classified(
    status: int,
    body: dict[str, object],
    headers: dict[str, str],
    code: str,
    transient: bool,
    retry_after: float | None,
) -> None:
    import httpx
    import openai

    from shared.providers.azure_openai import _classify_status_error

    response = httpx.Response(status, headers=headers, request=httpx.Request("POST", "https://x.test/"))
    error = _classify_status_error(openai.APIStatusError("failed", response=response, body=body))

    assert (error.code, error.transient, error.retry_after) == (code, transient, retry_after)
