"""Seed 001 (`/api/v1/generations`): every documented example request, over HTTP against the dev host."""

from __future__ import annotations

import io
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy
from azure.cosmos.exceptions import CosmosResourceNotFoundError
from azure.storage.blob import BlobServiceClient
from PIL import Image

from devtools.stack.stack import LocalStack
from shared.models.jobs import GenerationSpec, JobDocument, JobStatus
from tests.integration.conftest import (
    DEV_KEY,
    QueueFactory,
    Simulator,
    create_key,
    unique_prompt,
    unique_tenant,
)
from tests.integration.doc_examples import LOCAL_API, run_marked_example

pytestmark = pytest.mark.integration

GENERATIONS = "/v1/generations"
DEV_TENANT = "dev"
GENERATION_FIELDS = {
    "id", "projectId", "prompt", "originalPrompt", "autoEnhance", "aspectRatio", "status", "outputImageId",
    "outputImage", "processingTimeMs", "retryCount", "errorMessage", "meta", "createdAt", "updatedAt",
}  # fmt: skip
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
IMAGE_MODEL = "gemini-2.5-flash-image"


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post(GENERATIONS, json=body)
    assert response.status_code == 201, response.text
    payload = response.json()
    assert payload["success"] is True
    return dict(payload["data"])


def wait_until_ended(api: httpx.Client, generation_id: str, *, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"{GENERATIONS}/{generation_id}")
        assert response.status_code == 200, response.text
        data = dict(response.json()["data"])
        if data["status"] in ("success", "failed"):
            return data
        assert data["status"] in ("pending", "processing"), data
        time.sleep(0.25)
    raise AssertionError(f"generation {generation_id} did not end within {timeout}s")


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert set(body) == {"success", "error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return dict(body["error"])


def assert_rate_limit_headers(response: httpx.Response) -> None:
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert response.headers[name].isdigit(), name


# --- create and get -------------------------------------------------------------------------------------


def test_create_with_enhancement_answers_201_then_get_shows_the_enhanced_prompt_and_image(
    api: httpx.Client, simulator: Simulator
) -> None:
    prompt = unique_prompt("a red sports car on a mountain road")
    response = api.post(
        GENERATIONS,
        json={
            "prompt": prompt,
            "aspectRatio": "16:9",
            "autoEnhance": True,
            "enhancementOptions": {"template": "photorealistic"},
            "meta": {"campaign": "autumn", "tags": ["car", 1]},
        },
    )

    assert response.status_code == 201, response.text
    assert_rate_limit_headers(response)
    body = response.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    created = body["data"]
    assert set(created) == GENERATION_FIELDS
    uuid.UUID(created["id"])
    assert created["projectId"] == DEV_TENANT
    # As the document's example shows: the 201 already carries the enhanced prompt (see docs/compat.md).
    enhanced = f"{prompt}, rendered as a photograph, with careful lighting and composition"
    assert created["prompt"] == enhanced
    assert created["originalPrompt"] == prompt
    assert created["autoEnhance"] is True
    assert created["aspectRatio"] == "16:9"
    assert created["status"] == "pending"
    assert created["outputImageId"] is None and created["outputImage"] is None
    assert created["processingTimeMs"] is None and created["errorMessage"] is None
    assert created["retryCount"] == 0
    assert created["meta"] == {"campaign": "autumn", "tags": ["car", 1]}
    assert TIMESTAMP.match(created["createdAt"]) and TIMESTAMP.match(created["updatedAt"])

    done = wait_until_ended(api, created["id"])

    assert done["status"] == "success", done
    assert done["prompt"] == enhanced
    assert done["originalPrompt"] == prompt
    # Enhanced once, before the answer; the worker drew from that prompt without enhancing again.
    [text_call] = simulator.requests_for(prompt, kind="text")
    assert "Style: a photograph" in text_call["body"]["systemInstruction"]["parts"][0]["text"]
    [image_call] = simulator.requests_for(enhanced, kind="image")
    assert image_call["model"] == IMAGE_MODEL
    image = done["outputImage"]
    assert set(image) == {"id", "storageUrl", "mimeType", "width", "height", "fileSize"}
    assert done["outputImageId"] == image["id"] == f"{created['id']}-0"
    stored = httpx.get(image["storageUrl"], timeout=30)
    assert stored.status_code == 200
    assert len(stored.content) == image["fileSize"]
    assert image["mimeType"] == "image/png" and stored.content.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(stored.content)) as picture:
        assert picture.size == (image["width"], image["height"])
    assert image["width"] > image["height"]  # 16:9 reached the model
    assert isinstance(done["processingTimeMs"], int) and done["processingTimeMs"] >= 0
    assert done["retryCount"] == 0 and done["errorMessage"] is None
    assert done["meta"] == created["meta"]
    assert done["createdAt"] == created["createdAt"] and done["updatedAt"] > created["updatedAt"]


def test_the_with_enhancement_example_keeps_the_original_prompt(
    api: httpx.Client, simulator: Simulator
) -> None:
    prompt = unique_prompt("a cat")
    created = create(api, prompt=prompt, autoEnhance=True, enhancementOptions={"template": "photorealistic"})

    done = wait_until_ended(api, created["id"])

    enhanced = f"{prompt}, rendered as a photograph, with careful lighting and composition"
    assert (created["prompt"], created["originalPrompt"], created["status"]) == (enhanced, prompt, "pending")
    assert done["prompt"] == enhanced
    assert done["originalPrompt"] == prompt
    assert done["autoEnhance"] is True
    assert len(simulator.requests_for(prompt, kind="text")) == 1


def test_a_failed_enhancement_answers_201_with_the_original_prompt_and_still_generates(
    api: httpx.Client, simulator: Simulator
) -> None:
    prompt = unique_prompt("a cat on a fence")
    simulator.fault("http_500", count=1, model="gemini-2.5-flash")  # the text model (GEMINI_TEXT_MODEL)

    created = create(api, prompt=prompt, autoEnhance=True)

    assert created["prompt"] == created["originalPrompt"] == prompt
    done = wait_until_ended(api, created["id"])
    assert done["status"] == "success" and done["prompt"] == prompt
    assert len(simulator.requests_for(prompt, kind="image")) == 1
    native = api.get(f"/v1/images/generations/{created['id']}").json()
    assert any("enhancement failed" in warning for warning in native["warnings"]), native["warnings"]


def test_the_without_enhancement_example_calls_no_text_model(api: httpx.Client, simulator: Simulator) -> None:
    prompt = unique_prompt("a cat sitting on a windowsill")
    created = create(api, prompt=prompt, autoEnhance=False)

    done = wait_until_ended(api, created["id"])

    assert done["status"] == "success"
    assert done["prompt"] == done["originalPrompt"] == prompt
    assert done["autoEnhance"] is False
    assert simulator.requests_for(prompt, kind="text") == []
    assert len(simulator.requests_for(prompt, kind="image")) == 1


def test_auto_enhance_is_on_by_default_with_the_general_template(
    api: httpx.Client, simulator: Simulator
) -> None:
    prompt = unique_prompt("a lighthouse")
    created = create(api, prompt=prompt)

    assert created["autoEnhance"] is True and created["aspectRatio"] == "1:1" and created["meta"] == {}
    done = wait_until_ended(api, created["id"])
    [text_call] = simulator.requests_for(prompt, kind="text")
    assert "Style: balanced" in text_call["body"]["systemInstruction"]["parts"][0]["text"]
    assert done["prompt"] != prompt and done["originalPrompt"] == prompt


def test_a_failed_generation_shows_failed_with_its_error_message(
    api: httpx.Client, simulator: Simulator
) -> None:
    simulator.fault("safety", model=IMAGE_MODEL)
    created = create(api, prompt=unique_prompt("something forbidden"), autoEnhance=False)

    done = wait_until_ended(api, created["id"])

    assert done["status"] == "failed"
    assert "IMAGE_SAFETY" in done["errorMessage"]
    assert done["outputImageId"] is None and done["outputImage"] is None
    listed = api.get(GENERATIONS, params={"status": "failed", "limit": 100}).json()["data"]
    assert created["id"] in [item["id"] for item in listed]


def test_a_canceled_job_shows_as_failed(api: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("slow", model=IMAGE_MODEL, delay_seconds=5)
    created = create(api, prompt=unique_prompt("canceled"), autoEnhance=False)

    canceled = api.post(f"/v1/images/generations/{created['id']}/cancel")

    assert canceled.status_code == 200, canceled.text
    shown = api.get(f"{GENERATIONS}/{created['id']}").json()["data"]
    assert shown["status"] == "failed"
    assert shown["errorMessage"] == "The generation was canceled."


def test_a_generation_that_cannot_be_queued_is_500_generation_failed(
    api: httpx.Client, queues: QueueFactory, jobs_container: ContainerProxy
) -> None:
    queue = queues("generation-jobs")
    prompt = unique_prompt("unqueued")
    queue.delete_queue()
    try:
        response = api.post(GENERATIONS, json={"prompt": prompt, "autoEnhance": False})
    finally:
        _recreate(queue)

    error = assert_error(response, 500, "GENERATION_FAILED")
    assert "could not be started" in error["message"]
    # The job that could not start is kept, ended `failed`: a GET shows it so.
    [stored] = _jobs_with_prompt(jobs_container, prompt)
    assert stored["status"] == "failed"
    shown = api.get(f"{GENERATIONS}/{stored['id']}").json()["data"]
    assert shown["status"] == "failed" and shown["errorMessage"] == "The job could not be queued."


def _recreate(queue: Any) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            queue.create_queue()
            return
        except Exception:  # Azurite may still be deleting it
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _jobs_with_prompt(jobs_container: ContainerProxy, prompt: str) -> list[dict[str, Any]]:
    return list(
        jobs_container.query_items(
            "SELECT * FROM c WHERE c.tenantId = @tenant AND c.spec.prompt = @prompt",
            parameters=[{"name": "@tenant", "value": DEV_TENANT}, {"name": "@prompt", "value": prompt}],
            enable_cross_partition_query=True,
        )
    )


# --- list -----------------------------------------------------------------------------------------------


def test_the_list_example_filters_by_status_with_pagination(api: httpx.Client) -> None:
    created = create(api, prompt=unique_prompt("listed"), autoEnhance=False)
    wait_until_ended(api, created["id"])

    response = api.get(GENERATIONS, params={"status": "success", "limit": 10})

    assert response.status_code == 200, response.text
    assert_rate_limit_headers(response)
    body = response.json()
    assert set(body) == {"success", "data", "pagination"} and body["success"] is True
    pagination = body["pagination"]
    assert set(pagination) == {"limit", "offset", "total", "hasMore"}
    assert pagination["limit"] == 10 and pagination["offset"] == 0
    assert 1 <= len(body["data"]) <= 10
    assert pagination["total"] >= len(body["data"])
    assert pagination["hasMore"] is (pagination["total"] > len(body["data"]))
    assert {item["status"] for item in body["data"]} == {"success"}
    assert all(set(item) == GENERATION_FIELDS for item in body["data"])
    assert all(item["outputImage"]["id"] == item["outputImageId"] for item in body["data"])
    created_at = [item["createdAt"] for item in body["data"]]
    assert created_at == sorted(created_at, reverse=True)


@pytest.fixture(scope="module")
def paged_tenant(
    jobs_container: ContainerProxy, admin: httpx.Client
) -> tuple[dict[str, str], list[JobDocument]]:
    """A tenant with 130 stored jobs (more than one Cosmos page of 100): 70 succeeded, 30 failed,
    20 canceled, 10 queued, of which 5 succeeded ones are soft-deleted."""
    tenant = unique_tenant("seed001-paging")
    start = datetime(2025, 11, 28, 10, 0, tzinfo=UTC)
    statuses = [JobStatus.SUCCEEDED] * 70 + [JobStatus.FAILED] * 30 + [JobStatus.CANCELED] * 20
    statuses += [JobStatus.QUEUED] * 10
    jobs = []
    for index, status in enumerate(statuses):
        at = start + timedelta(seconds=index * 7 % 131)  # interleaved, distinct creation times
        job = JobDocument(
            id=str(uuid.uuid4()),
            tenant_id=tenant,
            status=status,
            spec=GenerationSpec(
                prompt=f"paged {index}", provider="gemini", model=IMAGE_MODEL, aspect_ratio="1:1"
            ),
            created_at=at,
            updated_at=at,
            deleted_at=at if status is JobStatus.SUCCEEDED and index < 5 else None,
        )
        jobs_container.create_item(job.model_dump(mode="json"))
        jobs.append(job)
    key = create_key(admin, tenant)["key"]
    return {"X-API-Key": key}, jobs


def _newest_first(jobs: list[JobDocument]) -> list[str]:
    return [job.id for job in sorted(jobs, key=lambda job: job.created_at, reverse=True)]


def test_offset_pages_cover_every_generation_once(
    anonymous: httpx.Client, paged_tenant: tuple[dict[str, str], list[JobDocument]]
) -> None:
    headers, jobs = paged_tenant
    visible = [job for job in jobs if job.deleted_at is None]

    pages = [
        anonymous.get(GENERATIONS, params={"limit": 50, "offset": offset}, headers=headers).json()
        for offset in (0, 50, 100)
    ]

    assert [page["pagination"] for page in pages] == [
        {"limit": 50, "offset": 0, "total": 125, "hasMore": True},
        {"limit": 50, "offset": 50, "total": 125, "hasMore": True},
        {"limit": 50, "offset": 100, "total": 125, "hasMore": False},
    ]
    ids = [item["id"] for page in pages for item in page["data"]]
    assert ids == _newest_first(visible)  # in order, no duplicate, none left out
    assert {item["projectId"] for page in pages for item in page["data"]} == {jobs[0].tenant_id}


def test_the_default_limit_is_20_and_an_offset_past_the_end_is_empty(
    anonymous: httpx.Client, paged_tenant: tuple[dict[str, str], list[JobDocument]]
) -> None:
    headers, jobs = paged_tenant

    first = anonymous.get(GENERATIONS, headers=headers).json()
    beyond = anonymous.get(GENERATIONS, params={"offset": 500}, headers=headers).json()
    deep = anonymous.get(GENERATIONS, params={"offset": 110, "limit": 100}, headers=headers).json()

    assert first["pagination"] == {"limit": 20, "offset": 0, "total": 125, "hasMore": True}
    assert [item["id"] for item in first["data"]] == _newest_first([j for j in jobs if j.deleted_at is None])[
        :20
    ]
    assert beyond["data"] == [] and beyond["pagination"]["hasMore"] is False
    assert beyond["pagination"]["total"] == 125
    assert len(deep["data"]) == 15 and deep["pagination"]["hasMore"] is False


def test_status_filters_and_include_deleted_count_their_own_total(
    anonymous: httpx.Client, paged_tenant: tuple[dict[str, str], list[JobDocument]]
) -> None:
    headers, jobs = paged_tenant

    def listed(**params: Any) -> dict[str, Any]:
        response = anonymous.get(GENERATIONS, params={"limit": 100, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    failed = listed(status="failed")
    assert failed["pagination"]["total"] == 50  # native failed and canceled
    assert {item["status"] for item in failed["data"]} == {"failed"}
    assert listed(status="success")["pagination"]["total"] == 65
    assert listed(status="success", includeDeleted="true")["pagination"]["total"] == 70
    assert listed(status="pending")["pagination"]["total"] == 10
    assert listed(status="processing")["pagination"] == {
        "limit": 100,
        "offset": 0,
        "total": 0,
        "hasMore": False,
    }
    everything = listed(includeDeleted="true", offset=30)
    assert everything["pagination"] == {"limit": 100, "offset": 30, "total": 130, "hasMore": False}
    assert [item["id"] for item in everything["data"]] == _newest_first(jobs)[30:]


def test_include_deleted_shows_a_job_soft_deleted_through_the_native_api(api: httpx.Client) -> None:
    created = create(api, prompt=unique_prompt("soft deleted"), autoEnhance=False)
    wait_until_ended(api, created["id"])
    assert api.delete(f"/v1/images/generations/{created['id']}").status_code == 204

    def listed_ids(**params: Any) -> list[str]:
        page = api.get(GENERATIONS, params={"limit": 100, **params}).json()
        return [item["id"] for item in page["data"]]

    assert created["id"] not in listed_ids()
    assert created["id"] in listed_ids(includeDeleted="true")
    assert_error(api.get(f"{GENERATIONS}/{created['id']}"), 404, "GENERATION_NOT_FOUND")
    shown = api.get(f"{GENERATIONS}/{created['id']}", params={"includeDeleted": "true"})
    assert shown.status_code == 200 and shown.json()["data"]["status"] == "success"


# --- delete ---------------------------------------------------------------------------------------------


def test_delete_removes_the_record_and_its_image(
    api: httpx.Client, jobs_container: ContainerProxy, blob_service: BlobServiceClient
) -> None:
    created = create(api, prompt=unique_prompt("to delete"), autoEnhance=False)
    done = wait_until_ended(api, created["id"])
    [output] = jobs_container.read_item(created["id"], partition_key=DEV_TENANT)["outputs"]
    blob = blob_service.get_blob_client(output["container"], output["blobName"])
    assert blob.exists()

    response = api.delete(f"{GENERATIONS}/{created['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "message": "Generation deleted"}
    assert_rate_limit_headers(response)
    with pytest.raises(CosmosResourceNotFoundError):
        jobs_container.read_item(created["id"], partition_key=DEV_TENANT)
    assert not blob.exists()
    assert httpx.get(done["outputImage"]["storageUrl"], timeout=30).status_code == 404
    assert_error(api.get(f"{GENERATIONS}/{created['id']}"), 404, "GENERATION_NOT_FOUND")
    gone = api.get(f"{GENERATIONS}/{created['id']}", params={"includeDeleted": "true"})
    assert_error(gone, 404, "GENERATION_NOT_FOUND")
    assert_error(api.delete(f"{GENERATIONS}/{created['id']}"), 404, "GENERATION_NOT_FOUND")


# --- errors, auth and rate limits ----------------------------------------------------------------------


def test_another_tenants_generation_is_404(
    api: httpx.Client, anonymous: httpx.Client, admin: httpx.Client
) -> None:
    created = create(api, prompt=unique_prompt("mine"), autoEnhance=False)
    other = {"X-API-Key": create_key(admin, unique_tenant("other"))["key"]}

    assert_error(anonymous.get(f"{GENERATIONS}/{created['id']}", headers=other), 404, "GENERATION_NOT_FOUND")
    assert_error(
        anonymous.delete(f"{GENERATIONS}/{created['id']}", headers=other), 404, "GENERATION_NOT_FOUND"
    )
    listed = anonymous.get(GENERATIONS, params={"limit": 100}, headers=other).json()
    assert created["id"] not in [item["id"] for item in listed["data"]]
    assert api.get(f"{GENERATIONS}/{created['id']}").status_code == 200


def test_missing_or_invalid_credentials_are_401(anonymous: httpx.Client) -> None:
    missing = anonymous.get(GENERATIONS)
    invalid = anonymous.post(GENERATIONS, json={"prompt": "x"}, headers={"X-API-Key": "not-a-key"})

    assert_error(missing, 401, "UNAUTHORIZED")
    assert_error(invalid, 401, "UNAUTHORIZED")
    assert "X-RateLimit-Limit" not in missing.headers


def test_a_bearer_api_key_works_too(anonymous: httpx.Client) -> None:
    response = anonymous.get(GENERATIONS, headers={"Authorization": f"Bearer {DEV_KEY}"})

    assert response.status_code == 200, response.text
    assert response.json()["success"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x", "aspectRatio": "4:3"}, "aspectRatio"),  # native allows it, the seed does not
        ({"prompt": "x", "autoEnhance": "maybe"}, "autoEnhance"),
        ({"prompt": "x", "enhancementOptions": {"template": "baroque"}}, "enhancementOptions.template"),
        ({"prompt": "x", "meta": "not an object"}, "meta"),
        ({"prompt": "x", "provider": "gemini"}, "provider"),  # unknown to the seed
    ],
)
def test_invalid_create_bodies_are_400_and_create_nothing(
    api: httpx.Client, jobs_container: ContainerProxy, body: dict[str, Any], field: str
) -> None:
    marker = unique_prompt("invalid")
    if body.get("prompt") == "x":
        body = {**body, "prompt": marker}

    response = api.post(GENERATIONS, json=body)

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in [detail["field"] for detail in error["details"]]
    assert _jobs_with_prompt(jobs_container, marker) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "101"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"status": "succeeded"}, "status"),  # the native name is not the seed's
        ({"includeDeleted": "perhaps"}, "includeDeleted"),
    ],
)
def test_invalid_list_parameters_are_400(api: httpx.Client, params: dict[str, str], field: str) -> None:
    error = assert_error(api.get(GENERATIONS, params=params), 400, "VALIDATION_ERROR")
    assert field in [detail["field"] for detail in error["details"]]


def test_a_body_that_is_not_json_is_400(api: httpx.Client) -> None:
    response = api.post(GENERATIONS, content=b"{not json", headers={"Content-Type": "application/json"})

    assert_error(response, 400, "VALIDATION_ERROR")


def test_past_the_rate_limit_is_429_in_the_seed_shape(anonymous: httpx.Client, admin: httpx.Client) -> None:
    headers = {"X-API-Key": create_key(admin, unique_tenant("seed001-limited"), rateLimit=2)["key"]}

    answers = [anonymous.get(GENERATIONS, headers=headers) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"2"}
    assert all(0 < int(a.headers["X-RateLimit-Reset"]) <= 3600 for a in answers)
    error = assert_error(answers[-1], 429, "RATE_LIMIT_EXCEEDED")
    assert "Rate limit of 2" in error["message"]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 3600


# --- the docs/compat.md example -------------------------------------------------------------------------


def test_compat_seed001_examples(stack: LocalStack, tmp_path: Path) -> None:
    result = run_marked_example(
        "docs/compat.md",
        "compat-example: seed 001",
        cwd=tmp_path,
        substitutions={LOCAL_API: f"API={stack.endpoints.api_url}"},
        requires=("KEY=local-dev-key",),
        timeout=180,
    )

    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0] == "201 pending true 16:9"
    assert lines[1] == "success true"  # the enhanced prompt differs from the original
    assert re.fullmatch(r"image/png \d+ \d+ \d+", lines[2])
    assert lines[3] == "10 0 true"
    assert lines[4] == '{"success":true,"message":"Generation deleted"}'
    assert lines[5] == "404 GENERATION_NOT_FOUND"
