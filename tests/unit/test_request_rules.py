"""The rules between a request's fields (model validators) and the one 400 every refused input becomes."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest
from pydantic import ValidationError

from shared.errors import (
    QUERY_PARAMETER,
    ApiError,
    FieldProblem,
    invalid_field,
    invalid_fields,
    invalid_input,
)
from shared.http.handler import parse_json_body, validate_body
from shared.http.query import parse_query
from shared.http.responses import error_response
from shared.jobs.listing import JobListQuery
from shared.models.jobs import GenerationRequest

PRESET = "preset_" + "a" * 32


def _errors(body: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        GenerationRequest.model_validate(body)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def _post(body: object) -> func.HttpRequest:
    return func.HttpRequest(
        method="POST",
        url="https://api.example/api/v1/images/generations",
        headers={"content-type": "application/json"},
        body=json.dumps(body).encode(),
    )


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, [(("prompt",), "Field required")]),
        (
            {"variables": {"a": "b"}},
            [(("prompt",), "Field required"), (("variables",), "variables need a presetId")],
        ),
        ({"prompt": "p", "variables": {"a": "b"}}, [(("variables",), "variables need a presetId")]),
        ({"prompt": "p", "webhookEvents": ["completed"]}, [(("webhookEvents",), "needs a webhook URL")]),
        (
            {"prompt": "p", "mask": {"b64": "AAAA"}},
            [(("mask",), "A mask needs at least one reference image.")],
        ),
    ],
)  # fmt: skip
def test_each_rule_between_fields_names_the_field_to_change(
    body: dict[str, Any], errors: list[tuple[tuple[str, ...], str]]
) -> None:
    assert _errors(body) == errors


@pytest.mark.parametrize(
    "body",
    [
        {"presetId": PRESET},
        {"presetId": PRESET, "variables": {"a": "b"}},
        {"prompt": "p", "webhook": "https://hooks.example/x", "webhookEvents": ["queued"]},
        {"prompt": "p", "webhook": "https://hooks.example/x"},
        {"prompt": "p", "referenceImages": [{"b64": "AAAA"}], "mask": {"b64": "AAAA"}},
    ],
)
def test_requests_that_keep_the_rules_validate(body: dict[str, Any]) -> None:
    request = GenerationRequest.model_validate(body)

    assert request.preset_id == body.get("presetId") and request.webhook == body.get("webhook")


def test_events_without_a_webhook_are_refused_only_when_given() -> None:
    assert GenerationRequest.model_validate({"prompt": "p"}).webhook_events == ["completed"]


def test_a_field_error_is_reported_before_the_rules_between_fields() -> None:
    assert _errors({"webhookEvents": ["finished"]}) == [
        (("webhookEvents", 0), "Input should be 'queued', 'running' or 'completed'")
    ]


def test_a_rule_between_fields_is_the_400_envelope_naming_the_field() -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_body(_post({"variables": {"a": "b"}}), GenerationRequest)

    response = error_response(caught.value)

    assert response.status_code == 400
    assert json.loads(response.get_body()) == {
        "error": {
            "code": "VALIDATION_ERROR",
            "message": "Invalid request: prompt: Field required.",
            "details": [
                {"field": "prompt", "message": "Field required"},
                {"field": "variables", "message": "variables need a presetId"},
            ],
        }
    }


def test_decoded_fields_get_the_same_400_as_a_json_body() -> None:
    with pytest.raises(ApiError) as caught:
        validate_body({"prompt": "p", "mask": {"b64": "AAAA"}}, GenerationRequest)

    assert caught.value.message == "Invalid request: mask: A mask needs at least one reference image."
    assert caught.value.details == [
        {"field": "mask", "message": "A mask needs at least one reference image."}
    ]


def test_a_body_that_is_not_json_says_so() -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_body(
            func.HttpRequest(method="POST", url="https://api.example/x", headers={}, body=b"{"),
            GenerationRequest,
        )

    assert caught.value.status == 400 and caught.value.message == "The request body is not valid JSON."
    assert caught.value.details[0]["field"] == "body"


def test_a_bad_query_parameter_is_named_as_one() -> None:
    req = func.HttpRequest(
        method="GET", url="https://api.example/x?limit=0", headers={}, body=b"", params={"limit": "0"}
    )

    with pytest.raises(ApiError) as caught:
        parse_query(req, JobListQuery)

    assert (
        caught.value.message == "Invalid query parameter limit: Input should be greater than or equal to 1."
    )
    assert caught.value.details == [
        {"field": "limit", "message": "Input should be greater than or equal to 1"}
    ]


def test_one_field_problem_is_one_sentence_and_one_detail() -> None:
    plain = invalid_field("webhook", "the host x does not resolve")
    sentence = invalid_field("n", "ask for at most 2.")
    shorter = invalid_field("prompt", "the rendered prompt is longer than 9 characters", detail="too long")
    query = invalid_field("tenantId", "not a tenant id", prefix=QUERY_PARAMETER)

    assert (plain.status, plain.code) == (400, "VALIDATION_ERROR")
    assert plain.message == "Invalid request: webhook: the host x does not resolve."
    assert plain.details == [{"field": "webhook", "message": "the host x does not resolve"}]
    assert sentence.message == "Invalid request: n: ask for at most 2."
    assert shorter.message == "Invalid request: prompt: the rendered prompt is longer than 9 characters."
    assert shorter.details == [{"field": "prompt", "message": "too long"}]
    assert query.message == "Invalid query parameter tenantId: not a tenant id."


def test_several_problems_name_the_first_or_all() -> None:
    problems = [FieldProblem("n", "must be between 1 and 4."), FieldProblem("size", "Gemini accepts 16:9.")]

    first = invalid_fields(problems)
    every = invalid_fields(problems, name_all=True)

    assert first.message == "Invalid request: n: must be between 1 and 4."
    assert every.message == "Invalid request: n: must be between 1 and 4.; size: Gemini accepts 16:9."
    assert (
        first.details
        == every.details
        == [
            {"field": "n", "message": "must be between 1 and 4."},
            {"field": "size", "message": "Gemini accepts 16:9."},
        ]
    )


def test_an_error_of_the_whole_input_names_it() -> None:
    with pytest.raises(ValidationError) as caught:
        GenerationRequest.model_validate([])

    error = invalid_input(caught.value, prefix=QUERY_PARAMETER, whole="query")

    assert error.details == [{"field": "query", "message": caught.value.errors()[0]["msg"]}]
    assert error.message.startswith("Invalid query parameter query: ")
