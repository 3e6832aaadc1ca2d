"""A deployment whose default provider is not configured: a second dev host, beside the session's, runs
the app with the Gemini key removed (DEFAULT_PROVIDER stays gemini), against the same emulators and
simulator. Requests that name no provider get a 503 naming the setting, a request naming Gemini a 400
naming it, Azure OpenAI still works, health is degraded, and the start-up log warns once."""

from __future__ import annotations

import base64
import dataclasses
import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from devtools.stack.processes import free_port
from devtools.stack.stack import LocalStack
from tests.integration.conftest import DEV_KEY, api_client, unique_prompt, wait_for_terminal
from tests.integration.contract import Contract

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def without_gemini(stack: LocalStack) -> Iterator[LocalStack]:
    # Empty rather than absent: the dev host fills absent settings in from local.settings.json.
    values = {**stack.values, "GEMINI_API_KEY": ""}
    assert values["DEFAULT_PROVIDER"] == "gemini"
    # Its own queues, so that its workers never take the session host's jobs (and the reverse).
    values["JOBS_QUEUE"] = "no-gemini-jobs"
    values["WEBHOOKS_QUEUE"] = "no-gemini-webhooks"
    log_dir = stack.data_dir / "no-gemini-logs"
    app = LocalStack(
        values=values,
        endpoints=dataclasses.replace(stack.endpoints, api_port=free_port()),
        data_dir=stack.data_dir,
        log_dir=log_dir,
        devhost_args=["--no-timers"],
    )
    app.start_app()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def api(without_gemini: LocalStack, contract: Contract) -> Iterator[httpx.Client]:
    with api_client(without_gemini, contract, {"X-API-Key": DEV_KEY}) as client:
        yield client


def test_a_request_naming_no_provider_is_a_503_naming_the_missing_setting(api: httpx.Client) -> None:
    response = api.post("/v1/images/generations", json={"prompt": unique_prompt("no provider named")})

    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert "GEMINI_API_KEY" in error["message"]
    assert "DEFAULT_PROVIDER" in error["message"]
    assert error["details"] == {"settings": ["DEFAULT_PROVIDER", "GEMINI_API_KEY"]}


def test_naming_the_unconfigured_provider_is_a_400_on_the_field_naming_the_setting(api: httpx.Client) -> None:
    response = api.post(
        "/v1/images/generations", json={"prompt": unique_prompt("gemini named"), "provider": "gemini"}
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [detail["field"] for detail in error["details"]] == ["provider"]
    assert "GEMINI_API_KEY" in error["message"]


def test_a_configured_provider_named_still_generates(api: httpx.Client) -> None:
    response = api.post(
        "/v1/images/generations",
        json={"prompt": unique_prompt("azure named"), "provider": "azure-openai"},
    )

    assert response.status_code == 202, response.text
    job = wait_for_terminal(api, response.json()["id"])
    assert (job["status"], job["provider"]) == ("succeeded", "azure-openai"), job


def test_the_seed_families_answer_the_503_in_their_own_shapes(api: httpx.Client) -> None:
    png = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(png, "PNG")
    seed000 = api.post("/image", json={"prompt": "p", "images": [base64.b64encode(png.getvalue()).decode()]})
    seed002 = api.post("/v0/images/generations", json={"prompt": unique_prompt("seed 002")})
    seed001 = api.post("/v1/generations", json={"prompt": unique_prompt("seed 001")})

    # Seed 000's model is SEED000_MODEL (gemini here): the operator's setting, never the caller's field.
    assert seed000.status_code == 503, seed000.text
    assert "SEED000_MODEL" in seed000.json()["error"]
    assert "GEMINI_API_KEY" in seed000.json()["error"]
    assert seed002.status_code == 503, seed002.text
    assert "GEMINI_API_KEY" in seed002.json()["error"]
    # Seed 001 documents one server-side failure: a generation that could not be started.
    assert seed001.status_code == 500, seed001.text
    assert seed001.json()["error"]["code"] == "GENERATION_FAILED"
    assert "GEMINI_API_KEY" in seed001.json()["error"]["message"]


def test_health_is_degraded_and_names_the_setting(without_gemini: LocalStack, contract: Contract) -> None:
    with api_client(without_gemini, contract) as anonymous:
        response = anonymous.get("/health")

    assert response.status_code == 503, response.text
    report = response.json()
    assert report["status"] == "degraded"
    # Every dependency is reachable: the configuration alone degrades it.
    assert {name: d["status"] for name, d in report["dependencies"].items()} == {
        "blobStorage": "up",
        "queueStorage": "up",
        "cosmosDb": "up",
        "provider:azure-openai": "up",
    }
    (problem,) = report["configuration"]
    assert problem["settings"] == ["DEFAULT_PROVIDER", "GEMINI_API_KEY"]
    assert "GEMINI_API_KEY" in problem["message"]


def test_start_up_warns_once_per_unusable_setting(without_gemini: LocalStack, api: httpx.Client) -> None:
    api.get("/v1/images/generations")  # the app context is built by the first invocation
    api.get("/v1/images/generations")

    log = (without_gemini.log_dir / "devhost.log").read_text()
    warnings = [line for line in log.splitlines() if " WARNING " in line and "Provider settings" in line]
    assert len(warnings) == 1, warnings
    assert "DEFAULT_PROVIDER is gemini" in warnings[0]
    assert "GEMINI_API_KEY" in warnings[0]
