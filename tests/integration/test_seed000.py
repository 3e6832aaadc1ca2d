"""Seed 000 (`POST /api/image`, `GET /api/image/{id}`) over HTTP against the dev host: every documented
example, every documented field, the flat errors, the metadata read from the native job, the wait."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy
from PIL import Image

from devtools.stack.stack import LocalStack
from tests.integration.conftest import (
    Simulator,
    create_key,
    submit,
    unique_prompt,
    unique_tenant,
    wait_for_terminal,
)
from tests.integration.doc_examples import LOCAL_API, run_marked_example

pytestmark = pytest.mark.integration

SEED_MODEL = "gemini-3-pro-image-preview"  # SEED000_MODEL of the local (and test) settings
WAIT_SECONDS = 20  # seed000 in COMPAT_WAIT_SECONDS of the test settings
RESPONSE_FIELDS = {"imageBase64", "imageUrl", "text", "id"}
LINKS = "/v1/image-links"  # where permanent image links live (under the API base)


def _png(size: tuple[int, int] = (48, 32), colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _follow(url: str) -> bytes:
    response = httpx.get(url, timeout=30, follow_redirects=True)
    assert response.status_code == 200, response.text
    return response.content


def _post(api: httpx.Client, body: Any, **kwargs: Any) -> httpx.Response:
    return api.post("/image", json=body, timeout=WAIT_SECONDS + 60, **kwargs)


def _edited(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = _post(api, body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _check_image_answer(answer: dict[str, Any], prompt: str) -> bytes:
    """Every documented field of a 200: the data URL decodes to a real image, the very bytes at imageUrl."""
    assert set(answer) == RESPONSE_FIELDS, answer.keys()
    match = re.fullmatch(r"data:(image/(?:png|jpeg|webp));base64,([A-Za-z0-9+/=]+)", answer["imageBase64"])
    assert match, answer["imageBase64"][:60]
    data = base64.b64decode(match.group(2), validate=True)
    with Image.open(io.BytesIO(data)) as image:
        assert Image.MIME[image.format or ""] == match.group(1)
        assert image.width > 0 and image.height > 0
    # imageUrl is the image's permanent link: a redirect to a fresh read URL of the stored image.
    assert f"/api{LINKS}/" in answer["imageUrl"], answer["imageUrl"]
    stored = httpx.get(answer["imageUrl"], timeout=30, follow_redirects=True)
    assert stored.status_code == 200
    assert stored.content == data
    assert stored.headers["content-type"] == match.group(1)
    assert answer["text"] == f"Here is an image of: {prompt[:80]}"
    uuid.UUID(answer["id"])
    return data


# --- the documented examples ----------------------------------------------------------------------------


def test_compat_seed000_examples(stack: LocalStack, api: httpx.Client, tmp_path: Path) -> None:
    result = run_marked_example(
        "docs/compat.md",
        "compat-example: seed 000",
        cwd=tmp_path,
        substitutions={LOCAL_API: f"API={stack.endpoints.api_url}"},
        requires=("KEY=local-dev-key",),
        timeout=300,
    )

    assert result.stdout.splitlines() == [
        "200",
        "200",
        "Here is an image of: Make this image look like a watercolor painting",
        "200",
        "data:image/png;base64",
        "Combine these images into a dramatic sunset scene 2 dev-key",
        "400",
        '{"error":"No images provided","code":"VALIDATION_ERROR"}',
        "400",
        '{"error":"No prompt provided","code":"VALIDATION_ERROR"}',
    ]
    first, second, combined, metadata = (
        json.loads((tmp_path / name).read_text())
        for name in ("first.json", "second.json", "combined.json", "metadata.json")
    )
    _check_image_answer(first, "Make this image look like a watercolor painting")
    _check_image_answer(second, "Transform this into a cyberpunk style")
    combined_bytes = _check_image_answer(combined, "Combine these images into a dramatic sunset scene")
    assert metadata["id"] == combined["id"]
    assert metadata["inputImages"] == [first["imageUrl"], second["imageUrl"]]
    assert metadata["outputImageUrl"] == combined["imageUrl"]
    assert httpx.get(metadata["outputImageUrl"], timeout=30, follow_redirects=True).content == combined_bytes


def test_a_data_url_is_sent_to_the_seed_model_inline(api: httpx.Client, simulator: Simulator) -> None:
    png = _png()
    prompt = unique_prompt("Make this image look like a watercolor painting")

    answer = _edited(api, {"images": [f"data:image/png;base64,{_b64(png)}"], "prompt": prompt})

    _check_image_answer(answer, prompt)
    [sent] = simulator.requests_for(prompt)
    assert sent["model"] == SEED_MODEL
    assert sent["references"] == [{"mimeType": "image/png", "bytes": len(png), "sha256": _sha(png)}]


def test_raw_base64_images_are_accepted(api: httpx.Client, simulator: Simulator) -> None:
    png, jpeg = _png(), _jpeg()
    prompt = unique_prompt("Transform this into a cyberpunk style")

    answer = _edited(api, {"images": [_b64(png), _b64(jpeg)], "prompt": prompt})

    _check_image_answer(answer, prompt)
    [sent] = simulator.requests_for(prompt)
    assert [(ref["mimeType"], ref["sha256"]) for ref in sent["references"]] == [
        ("image/png", _sha(png)),
        ("image/jpeg", _sha(jpeg)),
    ]


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), (200, 40, 90)).save(out, format="JPEG")
    return out.getvalue()


def test_the_fetch_example_with_two_blob_urls(api: httpx.Client, simulator: Simulator) -> None:
    # The seed's example sends two blob URLs; here two earlier outputs on the local storage account.
    first = _edited(api, {"images": [_b64(_png())], "prompt": unique_prompt("image one")})
    second = _edited(api, {"images": [_b64(_png(colour=(0, 0, 0)))], "prompt": unique_prompt("image two")})
    prompt = unique_prompt("Combine these images into a dramatic sunset scene")

    answer = _edited(api, {"images": [first["imageUrl"], second["imageUrl"]], "prompt": prompt})

    _check_image_answer(answer, prompt)
    [sent] = simulator.requests_for(prompt)
    expected = [_sha(_follow(first["imageUrl"])), _sha(_follow(second["imageUrl"]))]
    assert [ref["sha256"] for ref in sent["references"]] == expected


# --- the metadata document, read through the native job --------------------------------------------------


def test_the_metadata_document_is_read_from_the_native_job(
    api: httpx.Client, jobs_container: ContainerProxy
) -> None:
    earlier = _edited(api, {"images": [_b64(_png())], "prompt": unique_prompt("an input")})
    png = _png(colour=(1, 2, 3))
    prompt = unique_prompt("Convert to black and white with high contrast")
    before = time.time()

    answer = _edited(
        api, {"images": [earlier["imageUrl"], f"data:image/png;base64,{_b64(png)}"], "prompt": prompt}
    )
    response = api.get(f"/image/{answer['id']}")

    assert response.status_code == 200, response.text
    metadata = response.json()
    assert set(metadata) == {"id", "userId", "prompt", "inputImages", "outputImageUrl", "createdAt"}
    assert metadata["id"] == answer["id"]
    assert metadata["userId"] == "dev-key"
    assert metadata["prompt"] == prompt
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", metadata["createdAt"])
    assert abs(_epoch(metadata["createdAt"]) - before) < 120
    # The URL as given, and the stored copy of the inline image.
    assert metadata["inputImages"][0] == earlier["imageUrl"]
    assert httpx.get(metadata["inputImages"][1], timeout=30).content == png
    assert _follow(metadata["outputImageUrl"]) == base64.b64decode(answer["imageBase64"].split(",", 1)[1])
    # The native job is the record: it carries the caller and the images as given.
    native = api.get(f"/v1/images/generations/{answer['id']}").json()
    assert native["status"] == "succeeded" and native["mode"] == "edit" and native["model"] == SEED_MODEL
    assert native["text"] == answer["text"]
    stored = jobs_container.read_item(answer["id"], partition_key="dev")
    assert stored["origin"] == {
        "route": "seed000",
        "subject": "dev-key",
        "inputUrls": [earlier["imageUrl"], None],
    }


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_metadata_of_unknown_native_or_other_tenants_jobs_is_404(
    api: httpx.Client, admin: httpx.Client, anonymous: httpx.Client
) -> None:
    native = submit(api, prompt=unique_prompt("a native job"))
    mine = _edited(api, {"images": [_b64(_png())], "prompt": unique_prompt("mine")})
    other_key = create_key(admin, unique_tenant("seed000-other"))["key"]

    for client, job_id, headers in [
        (api, str(uuid.uuid4()), {}),
        (api, native["id"], {}),
        (anonymous, mine["id"], {"X-API-Key": other_key}),
    ]:
        response = client.get(f"/image/{job_id}", headers=headers)
        assert response.status_code == 404, response.text
        assert response.json() == {"error": f"Generation {job_id!r} was not found.", "code": "NOT_FOUND"}


# --- errors in the seed's flat shape ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "p"},
        {"images": [], "prompt": "p"},
        {"images": None, "prompt": "p"},
        {"images": "data:image/png;base64,AAAA", "prompt": "p"},
        {"images": {"0": "x"}, "prompt": "p"},
        {"images": []},  # the documented error wins over the missing prompt
    ],
)
def test_no_images_is_the_documented_400(
    api: httpx.Client, simulator: Simulator, body: dict[str, Any]
) -> None:
    response = _post(api, body)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"error": "No images provided", "code": "VALIDATION_ERROR"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"images": ["IMAGE"]}, "No prompt provided"),
        ({"images": ["IMAGE"], "prompt": "   "}, "No prompt provided"),
        ({"images": ["IMAGE"] * 6, "prompt": "p"}, "Too many images: 6; at most 5 are accepted."),
        ({"images": ["IMAGE", " "], "prompt": "p"}, "images[1] is empty"),
        (
            {"images": ["IMAGE", "not base64!"], "prompt": "p"},
            "Invalid request: images[1]: Not valid base64.",
        ),
        (
            {"images": [_b64(b"hello, not an image")], "prompt": "p"},
            "images[0]: Not a usable PNG, JPEG or WebP",
        ),
        # Any public host is fetched (this one does not resolve); private and loopback addresses never are.
        (
            {"images": ["https://evil.example.net/a.png"], "prompt": "p"},
            "images[0]: The URL was refused: the host evil.example.net does not resolve",
        ),
        (
            {"images": ["https://127.0.0.1/a.png"], "prompt": "p"},
            "images[0]: The URL was refused: the host 127.0.0.1 resolves to a loopback address",
        ),
        (
            {"images": ["https://169.254.169.254/latest"], "prompt": "p"},
            "resolves to a cloud metadata address",
        ),
        ({"images": ["https://[2002:7f00:1::]/a.png"], "prompt": "p"}, "resolves to a 6to4 address"),
        (
            {"images": ["http://127.0.0.1:9/a.png"], "prompt": "p"},
            "images[0]: The URL was refused: only https",
        ),
        (
            {"images": ["IMAGE", 7], "prompt": "p"},
            "Invalid request: images.1: Input should be a valid string.",
        ),
        ({"images": ["IMAGE"], "prompt": "x" * 4001}, "Invalid request: prompt: String should have at most"),
    ],
)
def test_bad_requests_are_400_in_the_flat_shape_and_queue_nothing(
    api: httpx.Client, simulator: Simulator, body: dict[str, Any], message: str
) -> None:
    marker = unique_prompt("must not run")
    if body.get("prompt") == "p":
        body = {**body, "prompt": marker}
    body = {**body, "images": [_b64(_png()) if item == "IMAGE" else item for item in body["images"]]}

    response = _post(api, body)

    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) == {"error", "code"} and error["code"] == "VALIDATION_ERROR"
    assert message in error["error"], error
    assert simulator.requests_for(marker) == []


def test_a_body_that_is_not_json_is_400(api: httpx.Client) -> None:
    response = api.post("/image", content=b"{images", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json() == {"error": "The request body is not valid JSON.", "code": "VALIDATION_ERROR"}


def test_a_body_that_is_not_json_by_type_is_415(api: httpx.Client) -> None:
    response = api.post("/image", content=b"images=x", headers={"Content-Type": "text/plain"})

    assert response.status_code == 415
    assert response.json() == {
        "error": "Send the body as application/json.",
        "code": "UNSUPPORTED_MEDIA_TYPE",
    }


def test_auth_errors_are_in_the_flat_shape(anonymous: httpx.Client, admin: httpx.Client) -> None:
    body = {"images": [_b64(_png())], "prompt": "p"}

    missing = anonymous.post("/image", json=body)
    wrong = anonymous.post("/image", json=body, headers={"X-API-Key": "igk_nope_nope"})
    metadata = anonymous.get(f"/image/{uuid.uuid4()}")
    read_only = create_key(admin, unique_tenant("seed000-ro"), scopes=["read:image-gen"])["key"]
    forbidden = anonymous.post("/image", json=body, headers={"X-API-Key": read_only})

    for response in (missing, wrong, metadata):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["code"] == "UNAUTHORIZED"
        assert set(response.json()) == {"error", "code"}
    assert missing.json()["error"].startswith("Missing credentials")
    assert forbidden.status_code == 403
    assert forbidden.json() == {
        "error": "The credentials lack the 'write:image-gen' scope.",
        "code": "FORBIDDEN",
    }
    assert forbidden.headers["x-ratelimit-limit"]


# --- provider failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "count", "status", "code"),
    [
        ("safety", 1, 422, "CONTENT_POLICY"),
        ("no_image", 1, 502, "NO_IMAGE"),
        ("http_400", 1, 400, "INVALID_INPUT"),
        ("http_503", 3, 503, "PROVIDER_UNAVAILABLE"),  # PROVIDER_MAX_ATTEMPTS of the test settings
    ],
)
def test_provider_failures_answer_their_status(
    api: httpx.Client, simulator: Simulator, kind: str, count: int, status: int, code: str
) -> None:
    simulator.fault(kind, count=count, model=SEED_MODEL)
    prompt = unique_prompt(f"fails with {kind}")

    response = _post(api, {"images": [_b64(_png())], "prompt": prompt})

    assert response.status_code == status, response.text
    error = response.json()
    assert set(error) == {"error", "code"} and error["code"] == code and error["error"]
    assert len(simulator.requests_for(prompt)) == count


def test_a_generation_canceled_during_the_wait_is_409(api: httpx.Client, simulator: Simulator) -> None:
    prompt = unique_prompt("canceled while waiting")
    simulator.configure(latencyMs=8000)
    answers: list[httpx.Response] = []
    try:
        caller = threading.Thread(
            target=lambda: answers.append(_post(api, {"images": [_b64(_png())], "prompt": prompt}))
        )
        caller.start()
        job_id = _job_id_of(api, prompt)
        canceled = api.post(f"/v1/images/generations/{job_id}/cancel")
        assert canceled.status_code == 200, canceled.text
        caller.join(timeout=WAIT_SECONDS + 60)
    finally:
        simulator.configure(latencyMs=0)

    [response] = answers
    assert response.status_code == 409
    assert response.json() == {"error": "The generation was canceled.", "code": "CANCELED"}


def _job_id_of(api: httpx.Client, prompt: str, timeout: float = 30) -> str:
    """The id of the newest job with `prompt`, once it is listed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = api.get("/v1/images/generations", params={"limit": 20}).json()["items"]
        found = [item["id"] for item in items if item["prompt"] == prompt]
        if found:
            return str(found[0])
        time.sleep(0.2)
    raise AssertionError(f"no job with prompt {prompt!r} within {timeout}s")


# --- past the wait: the native sync mode's 202 -----------------------------------------------------------


def test_a_job_outlasting_the_wait_answers_202_with_its_status_url(
    stack: LocalStack, api: httpx.Client, simulator: Simulator
) -> None:
    # Every provider call outlasts PROVIDER_TIMEOUT_SECONDS (10 s) while the latency is on, so the job is
    # still queued or running when its COMPAT_WAIT_SECONDS (20 s) runs out; the retry after it succeeds.
    prompt = unique_prompt("slow generation")
    simulator.configure(latencyMs=(WAIT_SECONDS + 5) * 1000)
    try:
        started = time.monotonic()
        response = _post(api, {"images": [_b64(_png())], "prompt": prompt})
        waited = time.monotonic() - started
    finally:
        simulator.configure(latencyMs=0)

    assert response.status_code == 202, response.text
    assert waited >= WAIT_SECONDS
    job = response.json()
    status_url = f"{stack.endpoints.api_url}/v1/images/generations/{job['id']}"
    assert response.headers["location"] == status_url
    assert job["statusQueryGetUri"] == status_url
    assert response.headers["retry-after"] == "2"
    assert job["status"] in ("queued", "running")
    assert job["prompt"] == prompt and job["model"] == SEED_MODEL and job["mode"] == "edit"
    pending = api.get(f"/image/{job['id']}").json()
    assert pending["outputImageUrl"] is None

    done = wait_for_terminal(api, job["id"], timeout=120)

    assert done["status"] == "succeeded", done
    assert done["text"] == f"Here is an image of: {prompt}"
    metadata = api.get(f"/image/{job['id']}").json()
    assert _follow(metadata["outputImageUrl"]) == httpx.get(done["outputs"][0]["url"]).content
