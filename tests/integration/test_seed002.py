"""Seed 002 over HTTP: `/api/v0/images/generations` (sync, async, multipart, presets, references),
`/api/v0/images/library` (page-numbered, one image, download) and `/api/v0/usage`, with `Authorization:
Bearer` keys of a tenant of this module's own (so its library and credits are this module's alone)."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy
from PIL import Image

from devtools.stack.stack import LocalStack
from tests.integration.conftest import (
    Simulator,
    api_client,
    create_key,
    unique_prompt,
    unique_tenant,
)
from tests.integration.contract import Contract
from tests.integration.doc_examples import run_marked_example

pytestmark = pytest.mark.integration

GENERATIONS = "/v0/images/generations"
SLOW_MODEL = "gemini-3.1-flash-image-preview"


@pytest.fixture(scope="module")
def tenant(admin: httpx.Client) -> tuple[str, str]:
    tenant_id = unique_tenant("seed002")
    # Polling the sync and async jobs takes more requests than the default per-key rate limit allows.
    return tenant_id, create_key(admin, tenant_id, rateLimit=1_000_000)["key"]


@pytest.fixture(scope="module")
def v0(stack: LocalStack, contract: Contract, tenant: tuple[str, str]) -> Iterator[httpx.Client]:
    with api_client(stack, contract, {"Authorization": f"Bearer {tenant[1]}"}) as client:
        client.timeout = httpx.Timeout(60)
        yield client


def _png(size: tuple[int, int] = (48, 32), color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _generate(v0: httpx.Client, query: str = "", **body: Any) -> dict[str, Any]:
    response = v0.post(f"{GENERATIONS}{query}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def _usage(v0: httpx.Client) -> dict[str, Any]:
    response = v0.get("/v0/usage")
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def _settled_usage(v0: httpx.Client, timeout: float = 60) -> dict[str, Any]:
    """Usage once no job of this tenant holds credits any more."""
    deadline = time.monotonic() + timeout
    while (usage := _usage(v0))["reserved"]:
        assert time.monotonic() < deadline, f"credits still reserved: {usage}"
        time.sleep(0.25)
    return usage


def _poll(v0: httpx.Client, job_id: str, *, until: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = v0.get(f"{GENERATIONS}/{job_id}")
        assert response.status_code == 200, response.text
        job = dict(response.json()["data"])
        assert job["status"] in ("queued", "active", "completed", "failed")
        if job["status"] in until:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.25)


def _stored(jobs_container: ContainerProxy, tenant: tuple[str, str], job_id: str) -> dict[str, Any]:
    return dict(jobs_container.read_item(job_id, partition_key=tenant[0]))


# --- POST /v0/images/generations -------------------------------------------------------------------------


def test_the_documented_json_body_waits_and_answers_the_result(
    v0: httpx.Client, jobs_container: ContainerProxy, tenant: tuple[str, str]
) -> None:
    before = _settled_usage(v0)
    prompt = unique_prompt("a serene mountain lake at sunrise")
    started = int(time.time())

    response = v0.post(
        GENERATIONS,
        json={
            "prompt": prompt,
            "negativePrompt": "watermark, text",
            "variables": {},
            "aspectRatio": "16:9",
            "resolution": "standard",
            "sampleCount": 1,
            "modelVersion": "gemini-3-pro-image-preview",
            "isPublic": False,
        },
    )

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) >= {"id", "created", "model", "data", "usage"}
    assert data["model"] == "gemini-3-pro-image-preview"
    assert started - 2 <= data["created"] <= time.time() + 2 and isinstance(data["created"], int)
    assert data["usage"] == {"credits": 1}
    [image] = data["data"]
    assert image["id"] == f"{data['id']}-0"
    assert image["storageKey"] and image["url"].split("?")[0].endswith(image["storageKey"])
    assert httpx.get(image["url"], timeout=30).content.startswith(b"\x89PNG")
    stored = _stored(jobs_container, tenant, data["id"])
    assert stored["status"] == "succeeded"
    assert stored["spec"]["prompt"] == prompt
    assert stored["spec"]["negativePrompt"] == "watermark, text"
    assert stored["spec"]["aspectRatio"] == "16:9"
    assert (stored["spec"]["provider"], stored["spec"]["model"]) == ("gemini", "gemini-3-pro-image-preview")
    assert stored["isPublic"] is False
    after = _settled_usage(v0)
    assert (after["credits"], after["spent"]) == (before["credits"] - 1, before["spent"] + 1)


def test_sample_count_and_resolution_give_that_many_images_at_their_cost(
    v0: httpx.Client, jobs_container: ContainerProxy, tenant: tuple[str, str]
) -> None:
    before = _settled_usage(v0)

    data = _generate(v0, prompt=unique_prompt("two kites"), sampleCount=2, resolution="high", isPublic=True)

    assert [image["id"] for image in data["data"]] == [f"{data['id']}-0", f"{data['id']}-1"]
    assert data["usage"] == {"credits": 4}  # cost(high) = 2, times two images
    stored = _stored(jobs_container, tenant, data["id"])
    assert (stored["spec"]["n"], stored["spec"]["resolution"], stored["isPublic"]) == (2, "high", True)
    assert _settled_usage(v0)["credits"] == before["credits"] - 4


@pytest.mark.parametrize(
    ("query", "has_url", "has_b64"),
    [("", True, False), ("?response_format=b64_json", False, True), ("?response_format=both", True, True),
     ("?include_base64=true", True, True), ("?include_base64=1", True, True)],
)  # fmt: skip
def test_response_format_and_include_base64(
    v0: httpx.Client, query: str, has_url: bool, has_b64: bool
) -> None:
    [image] = _generate(v0, query, prompt=unique_prompt("a teapot"))["data"]

    assert (image["url"] is not None) == has_url
    assert (image["b64_json"] is not None) == has_b64
    if has_b64:
        assert base64.b64decode(image["b64_json"]).startswith(b"\x89PNG")


def test_async_answers_queued_at_once_and_the_job_is_polled_to_completed(v0: httpx.Client) -> None:
    response = v0.post(f"{GENERATIONS}?async=true", json={"prompt": unique_prompt("a lighthouse")})

    assert response.status_code == 200, response.text
    queued = response.json()["data"]
    assert queued["status"] == "queued"
    assert isinstance(queued["created"], int) and queued["model"] == "gemini-2.5-flash-image"
    assert queued["data"] is None
    job = _poll(v0, queued["id"], until=("completed",))
    assert (job["id"], job["created"], job["model"]) == (queued["id"], queued["created"], queued["model"])
    [image] = job["data"]
    assert image["id"] == f"{job['id']}-0" and image["url"]
    assert image["width"] > 0 and image["height"] > 0
    assert job["usage"] == {"credits": 1}
    assert job["error"] is None


def test_async_1_is_async_too(v0: httpx.Client) -> None:
    response = v0.post(f"{GENERATIONS}?async=1", json={"prompt": unique_prompt("a lantern")})

    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "queued"
    _poll(v0, response.json()["data"]["id"], until=("completed",))


def test_a_model_version_picks_the_provider_that_offers_it(
    v0: httpx.Client, jobs_container: ContainerProxy, tenant: tuple[str, str]
) -> None:
    data = _generate(v0, prompt=unique_prompt("a red fox"), modelVersion="gpt-image-1")

    assert data["model"] == "gpt-image-1"
    stored = _stored(jobs_container, tenant, data["id"])
    assert (stored["spec"]["provider"], stored["spec"]["model"]) == ("azure-openai", "gpt-image-1")


def test_an_unknown_model_version_is_400_and_charges_nothing(v0: httpx.Client) -> None:
    before = _settled_usage(v0)

    response = v0.post(GENERATIONS, json={"prompt": "a cat", "modelVersion": "imagen-9"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert "modelVersion" in body["error"] and "imagen-9" in body["error"]
    assert _usage(v0) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "x", "aspectRatio": "7:3"}, "aspectRatio"),
        ({"prompt": "x", "resolution": "8k"}, "resolution"),
        ({"prompt": "x", "sampleCount": 0}, "sampleCount"),
        ({"prompt": "x", "unknownField": 1}, "unknownField"),
        ({"negativePrompt": "no prompt at all"}, "prompt"),
        (
            {
                "prompt": "x",
                "refImageBase64": [{"mimeType": "image/png", "data": "AAAA"}] * 3,
                "refImageUrls": ["https://images.example.com/a.png"] * 3,
            },
            "refImageBase64",
        ),
        ({"prompt": "x", "refImageUrls": ["https://images.example.com/a.png"] * 6}, "refImageUrls"),
    ],
)
def test_invalid_bodies_are_400_with_a_flat_error_naming_the_field(
    v0: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = v0.post(GENERATIONS, json=body)

    assert response.status_code == 400, response.text
    error = response.json()
    assert isinstance(error["error"], str) and field in error["error"]
    assert error["code"] == "VALIDATION_ERROR"


def test_sample_count_is_one_to_ten_by_default_while_the_native_n_stays_capped(
    v0: httpx.Client, api: httpx.Client, jobs_container: ContainerProxy, tenant: tuple[str, str]
) -> None:
    # MAX_IMAGES_PER_JOB is 4 (the default): seed 002's documented 1-10 is its own limit.
    data = _generate(v0, "?async=true", prompt=unique_prompt("ten kites"), sampleCount=10, resolution="low")

    assert _stored(jobs_container, tenant, data["id"])["spec"]["n"] == 10
    native = api.post("/v1/images/generations", json={"prompt": "five kites", "n": 5})
    assert native.status_code == 400
    assert native.json()["error"]["details"] == [{"field": "n", "message": "must be between 1 and 4."}]
    too_many = v0.post(GENERATIONS, json={"prompt": "x", "sampleCount": 11})
    assert too_many.status_code == 400 and "sampleCount" in too_many.json()["error"]


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        (
            {
                "refImageBase64": [{"mimeType": "image/png", "data": base64.b64encode(_png()).decode()}],
                "refImageUrls": ["https://evil.example.net/b.png"],
            },
            "refImageUrls[0]",  # the native referenceImages[1]
            "not on the allowlist",
        ),
        (
            {"refImageBase64": [{"mimeType": "image/png", "data": "not base64!"}]},
            "refImageBase64[0].data",
            "Not valid base64",
        ),
        ({"refImageUrls": [""]}, "refImageUrls.0", "at least 1 character"),
        ({"presetId": ""}, "presetId", "pattern"),
        ({"presetId": "preset_00000000000000000000000000000000"}, None, "Preset"),
    ],
)
def test_errors_name_the_callers_own_fields(
    v0: httpx.Client, body: dict[str, Any], field: str | None, text: str
) -> None:
    response = v0.post(GENERATIONS, json={"prompt": unique_prompt("named fields"), **body})

    assert 400 <= response.status_code < 500, response.text
    error = response.json()
    assert text in error["error"]
    assert "referenceImages" not in response.text and '"n"' not in response.text
    if field is not None:
        assert response.status_code == 400
        assert error["details"][0]["field"] == field
        assert error["error"].startswith(f"Invalid request: {field}: ")


def test_a_prompt_longer_than_the_native_4000_characters_is_400_naming_the_limit(v0: httpx.Client) -> None:
    accepted = v0.post(f"{GENERATIONS}?async=true", json={"prompt": "x" * 4000})
    refused = v0.post(GENERATIONS, json={"prompt": "x" * 5000})

    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 400
    assert refused.json()["details"][0]["field"] == "prompt"
    assert "at most 4000 characters" in refused.json()["error"]


def test_all_eighteen_aspect_ratios_are_accepted(v0: httpx.Client) -> None:
    ratios = ["1:1", "1:2", "1:4", "1:8", "2:1", "2:3", "3:2", "3:4", "4:1", "4:3",
              "4:5", "5:4", "8:1", "9:16", "9:19.5", "16:9", "19.5:9", "21:9"]  # fmt: skip
    for ratio in ratios:
        response = v0.post(
            f"{GENERATIONS}?async=true", json={"prompt": f"ratio {ratio}", "aspectRatio": ratio}
        )
        assert response.status_code == 200, (ratio, response.text)


def test_ref_image_base64_becomes_a_stored_reference_image(
    v0: httpx.Client, jobs_container: ContainerProxy, tenant: tuple[str, str], simulator: Simulator
) -> None:
    prompt = unique_prompt("make it blue")
    png = _png()

    data = _generate(
        v0, prompt=prompt, refImageBase64=[{"mimeType": "image/png", "data": base64.b64encode(png).decode()}]
    )

    stored = _stored(jobs_container, tenant, data["id"])
    assert len(stored["spec"]["referenceBlobs"]) == 1
    assert simulator.requests_for(prompt), "the provider was never called with the prompt"


def test_a_multipart_submit_with_a_preset_file_requirement(
    v0: httpx.Client, jobs_container: ContainerProxy, tenant: tuple[str, str]
) -> None:
    preset = v0.post(
        "/v1/presets",
        json={
            "name": "Restyle",
            "promptTemplate": "Redraw in the style of {{style}}",
            "requirements": [
                {"key": "style", "type": "text"},
                {"key": "photo", "type": "file"},
                {"key": "extras", "type": "file", "multiple": True, "required": False},
            ],
        },
    )
    assert preset.status_code == 201, preset.text
    preset_id = preset.json()["id"]

    response = v0.post(
        GENERATIONS,
        data={"presetId": preset_id, "variables": json.dumps({"style": "ukiyo-e"}), "prompt": "with a cat"},
        files={
            "photo": ("photo.png", _png(), "image/png"),
            "extras_0": ("a.png", _png(color=(1, 2, 3)), "image/png"),
            "extras_1": ("b.png", _png(color=(4, 5, 6)), "image/png"),
        },
    )

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    stored = _stored(jobs_container, tenant, data["id"])
    assert stored["presetId"] == preset_id
    assert stored["variables"] == {"style": "ukiyo-e"}
    assert stored["spec"]["prompt"] == "Redraw in the style of ukiyo-e\n\nwith a cat"
    assert len(stored["spec"]["referenceBlobs"]) == 3


def test_a_sync_wait_past_the_limit_is_the_documented_504_and_the_job_runs_on_to_a_refund(
    v0: httpx.Client, simulator: Simulator, stack: LocalStack
) -> None:
    before = _settled_usage(v0)
    wait = int(stack.settings.compat_wait("seed002"))
    # Every attempt outlasts the wait (and the provider timeout): the job ends failed, after the 504.
    simulator.fault("slow", count=3, model=SLOW_MODEL, delay_seconds=wait + 10)

    started = time.monotonic()
    response = v0.post(
        GENERATIONS, json={"prompt": unique_prompt("a slow sunset"), "modelVersion": SLOW_MODEL}
    )

    assert response.status_code == 504, response.text
    assert time.monotonic() - started >= wait
    body = response.json()
    assert body["error"] == f"Generation timed out after {wait}s"
    assert body["hint"] == f"GET /v0/images/generations/{body['jobId']} to check status"
    assert _poll(v0, body["jobId"], until=("queued", "active"))["status"] in ("queued", "active")
    failed = _poll(v0, body["jobId"], until=("failed", "completed"), timeout=120)
    assert failed["status"] == "failed" and failed["error"] and failed["data"] is None
    assert _settled_usage(v0)["credits"] == before["credits"]


def test_a_failed_sync_job_is_an_error_and_its_credits_are_refunded(
    v0: httpx.Client, simulator: Simulator
) -> None:
    before = _settled_usage(v0)
    simulator.fault("safety", model=SLOW_MODEL)

    response = v0.post(GENERATIONS, json={"prompt": unique_prompt("blocked"), "modelVersion": SLOW_MODEL})

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "CONTENT_POLICY" and body["error"]
    job = v0.get(f"{GENERATIONS}/{body['details']['jobId']}").json()["data"]
    assert job["status"] == "failed" and job["error"] == body["error"]
    after = _settled_usage(v0)
    assert (after["credits"], after["spent"]) == (before["credits"], before["spent"])


def test_an_unknown_job_is_404_and_another_tenants_job_too(v0: httpx.Client, api: httpx.Client) -> None:
    other = api.post("/v1/images/generations", json={"prompt": unique_prompt("not yours")})
    assert other.status_code == 202

    for job_id in ("no-such-job", other.json()["id"]):
        response = v0.get(f"{GENERATIONS}/{job_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"


def test_missing_credentials_are_401_in_the_flat_shape(anonymous: httpx.Client) -> None:
    response = anonymous.post(GENERATIONS, json={"prompt": "a cat"})

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED" and isinstance(response.json()["error"], str)


# --- library and usage -----------------------------------------------------------------------------------


def _library(v0: httpx.Client, **params: Any) -> dict[str, Any]:
    response = v0.get("/v0/images/library", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_the_library_pages_by_number_with_a_total_and_filters(v0: httpx.Client) -> None:
    tag = unique_prompt("library-tag").split("#")[1]
    ids = [_generate(v0, prompt=f"picture {n} {tag}")["id"] for n in range(3)]
    newest_first = [f"{job_id}-0" for job_id in reversed(ids)]

    first = _library(v0, search=tag.upper(), limit=2)
    second = _library(v0, search=tag, limit=2, page=2)
    beyond = _library(v0, search=tag, limit=2, page=3)

    assert (first["total"], first["page"], first["limit"]) == (3, 1, 2)
    assert [image["id"] for image in first["images"] + second["images"]] == newest_first
    assert (second["total"], second["page"]) == (3, 2)
    assert beyond["images"] == [] and beyond["total"] == 3
    image = first["images"][0]
    assert set(image) == {"id", "url", "thumbnailUrl", "width", "height", "presetId", "modelVersion",
                          "userPrompt", "isPublic", "createdAt"}  # fmt: skip
    assert image["userPrompt"] == f"picture 2 {tag}" and image["presetId"] is None
    assert image["modelVersion"] == "gemini-2.5-flash-image" and image["isPublic"] is False
    assert image["width"] > 0 and image["height"] > 0 and image["createdAt"].endswith("Z")
    assert _library(v0)["limit"] == 20 and _library(v0)["page"] == 1


def test_the_library_filters_by_preset_and_shows_one_image_and_its_bytes(
    v0: httpx.Client, api: httpx.Client
) -> None:
    preset = v0.post(
        "/v1/presets",
        json={
            "name": "Running shoes",
            "promptTemplate": "Product photo of {{product_name}}",
            "requirements": [{"key": "product_name", "type": "text"}],
        },
    ).json()
    data = _generate(
        v0, prompt="ภาพถ่ายรองเท้าวิ่ง", presetId=preset["id"], variables={"product_name": "Nike Air Zoom"}
    )
    image_id = data["data"][0]["id"]

    listed = _library(v0, presetId=preset["id"])
    by_name = _library(v0, search="running SHOES")
    response = v0.get(f"/v0/images/library/{image_id}")
    download = v0.get(f"/v0/images/library/{image_id}/download")

    assert [image["id"] for image in listed["images"]] == [image_id] and listed["total"] == 1
    assert image_id in [image["id"] for image in by_name["images"]]
    assert response.status_code == 200, response.text
    detail = response.json()["data"]
    assert detail["prompt"] == "Product photo of Nike Air Zoom\n\nภาพถ่ายรองเท้าวิ่ง"
    assert detail["userPrompt"] == "ภาพถ่ายรองเท้าวิ่ง"
    assert detail["variables"] == {"product_name": "Nike Air Zoom"}
    assert detail["sourceType"] is None and detail["presetId"] == preset["id"]
    assert detail["modelVersion"] == data["model"] and detail["isPublic"] is False
    assert detail["url"] and detail["width"] > 0 and detail["height"] > 0 and "thumbnailUrl" in detail
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == f'attachment; filename="{image_id}.png"'
    assert int(download.headers["content-length"]) == len(download.content)
    assert download.content == httpx.get(detail["url"], timeout=30).content
    # Another tenant's key sees none of it.
    assert api.get(f"/v0/images/library/{image_id}").status_code == 404
    assert api.get(f"/v0/images/library/{image_id}/download").status_code == 404
    assert v0.get("/v0/images/library/no-such-image").json()["code"] == "NOT_FOUND"


def test_a_download_carries_its_etag_and_an_unchanged_image_is_304(v0: httpx.Client) -> None:
    image_id = _generate(v0, prompt=unique_prompt("a lighthouse at dawn"))["data"][0]["id"]
    path = f"/v0/images/library/{image_id}/download"

    first = v0.get(path)
    etag = first.headers["etag"]
    again = v0.get(path, headers={"If-None-Match": etag})
    weak = v0.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    changed = v0.get(path, headers={"If-None-Match": '"something-else"'})

    assert first.status_code == 200 and etag
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert weak.status_code == 304
    assert changed.status_code == 200 and changed.content == first.content


def test_a_bad_library_query_is_400(v0: httpx.Client) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"page": 0}):
        response = v0.get("/v0/images/library", params=params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "VALIDATION_ERROR"


def test_usage_shows_the_remaining_credits(v0: httpx.Client) -> None:
    usage = _usage(v0)

    assert set(usage) == {"credits", "balance", "reserved", "spent"}
    assert usage["credits"] == usage["balance"] - usage["reserved"]


# --- docs/compat.md ---------------------------------------------------------------------------------------


def test_compat_seed002_examples(stack: LocalStack, tenant: tuple[str, str], tmp_path: Path) -> None:
    result = run_marked_example(
        "docs/compat.md",
        "compat-example: seed 002",
        cwd=tmp_path,
        substitutions={
            "BASE=http://127.0.0.1:7071/api": f"BASE={stack.endpoints.api_url}",
            "KEY=local-dev-key": f"KEY={tenant[1]}",
        },
        timeout=180,
    )

    lines = result.stdout.splitlines()
    assert lines[0] == "200 gemini-2.5-flash-image 1 1"  # sync: status, model, images, credits
    assert lines[1] == "200 queued"
    assert lines[2] == "completed"
    assert lines[3] == "200 1 1 2"  # library: images on the page, page, limit
    assert lines[4] == "a paper boat on a pond"
    assert re.fullmatch(r'(?i)content-disposition: attachment; filename="[0-9a-f-]+-0\.png"', lines[5])
    assert lines[6] == "True"  # usage: credits = balance - reserved
    assert (tmp_path / "boat.png").read_bytes().startswith(b"\x89PNG")
