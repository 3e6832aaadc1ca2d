"""The contract: the served OpenAPI document, health, request ids (answers are also checked against the
document by every client fixture)."""

from __future__ import annotations

import json

import httpx
import pytest

from devtools.stack.stack import ROOT, LocalStack

pytestmark = pytest.mark.integration


def test_the_served_openapi_document_is_the_one_in_docs(anonymous: httpx.Client, stack: LocalStack) -> None:
    response = anonymous.get("/openapi.json")

    assert response.status_code == 200
    document = response.json()
    # The same document, its server the absolute URL it was reached at.
    assert document.pop("servers") == [{"url": stack.endpoints.api_url}]
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    committed.pop("servers")
    assert document == committed
    assert document["openapi"] == "3.1.0"
    assert {"/v1/images/generations", "/v1/admin/api-keys", "/health"} <= set(document["paths"])


def test_health_reports_every_dependency_up(anonymous: httpx.Client) -> None:
    response = anonymous.get("/health")

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "ok"
    assert set(report["dependencies"]) == {
        "blobStorage",
        "queueStorage",
        "cosmosDb",
        "provider:gemini",
        "provider:azure-openai",
    }
    for name, dependency in report["dependencies"].items():
        assert dependency["status"] == "up", name
        assert dependency["latencyMs"] >= 0


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/images/generations/x", 401),
        ("POST", "/v1/images/generations", 401),
        ("GET", "/v1/admin/api-keys", 401),
        ("GET", "/health", 200),
        ("GET", "/openapi.json", 200),
    ],
)
def test_every_answer_carries_a_request_id(
    anonymous: httpx.Client, method: str, path: str, status: int
) -> None:
    response = anonymous.request(method, path, headers={"x-request-id": "trace-42"})

    assert response.status_code == status
    assert response.headers["x-request-id"] == "trace-42"
