"""Bad input and bad credentials: a clear 4xx in the envelope, and nothing stored or queued."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy

pytestmark = pytest.mark.integration


def _job_count(container: ContainerProxy) -> int:
    query = "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = 'dev'"
    counts: list[object] = list(container.query_items(query, partition_key="dev"))
    [count] = counts
    assert isinstance(count, int)
    return count


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 4001}, "prompt"),
        ({}, "prompt"),
        ({"prompt": "ok", "aspectRatio": "7:3"}, "aspectRatio"),
        ({"prompt": "ok", "aspectRatoi": "16:9"}, "aspectRatoi"),
        ({"prompt": "ok", "provider": "midjourney"}, "provider"),
        ({"prompt": "ok", "provider": "azure-openai", "model": "gpt-9"}, "model"),
        ({"prompt": "ok", "model": "gpt-image-1"}, "model"),
    ],
)
def test_invalid_requests_are_400_naming_the_field_and_store_nothing(
    api: httpx.Client, jobs_container: ContainerProxy, body: dict[str, Any], field: str
) -> None:
    before = _job_count(jobs_container)

    response = api.post("/v1/images/generations", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["message"]
    assert any(item["field"] == field for item in error["details"])
    assert _job_count(jobs_container) == before


def test_a_body_that_is_not_json_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/v1/images/generations", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "The request body is not valid JSON.",
        "details": [{"field": "body", "message": response.json()["error"]["details"][0]["message"]}],
    }


def test_a_body_of_another_media_type_is_415(api: httpx.Client) -> None:
    response = api.post("/v1/images/generations", content=b"prompt=x", headers={"Content-Type": "text/plain"})

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic bG9jYWwtZGV2LWtleQ=="},
    ],
)
def test_requests_without_a_valid_key_are_401(
    anonymous: httpx.Client, jobs_container: ContainerProxy, headers: dict[str, str]
) -> None:
    before = _job_count(jobs_container)

    response = anonymous.post("/v1/images/generations", json={"prompt": "hello"}, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _job_count(jobs_container) == before
    assert anonymous.get("/v1/images/generations/anything", headers=headers).status_code == 401


def test_a_bearer_token_is_accepted_as_the_api_key(anonymous: httpx.Client) -> None:
    response = anonymous.post(
        "/v1/images/generations", json={"prompt": "bearer"}, headers={"Authorization": "Bearer local-dev-key"}
    )

    assert response.status_code == 202


def test_an_unknown_job_is_404_in_the_envelope(api: httpx.Client) -> None:
    response = api.get("/v1/images/generations/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_an_incoming_request_id_is_echoed(api: httpx.Client) -> None:
    response = api.get("/v1/images/generations/nope", headers={"x-request-id": "trace-123"})

    assert response.headers["x-request-id"] == "trace-123"
