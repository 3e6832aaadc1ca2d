"""Edit mode: reference images and masks from base64, URLs and earlier outputs; checks; safe fetching."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy
from azure.storage.blob import BlobServiceClient
from PIL import Image

from devtools.stack.stack import LocalStack
from tests.integration.conftest import Simulator, submit, unique_prompt, wait_for_terminal

pytestmark = pytest.mark.integration


def _encode(size: tuple[int, int], fmt: str = "PNG", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 0) if mode == "RGBA" else (10, 120, 200)).save(out, format=fmt)
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_gemini_gets_base64_and_data_url_references_inline_and_they_are_stored(
    api: httpx.Client, simulator: Simulator, jobs_container: ContainerProxy, blob_service: BlobServiceClient
) -> None:
    png, jpeg = _encode((64, 48)), _encode((32, 32), "JPEG")
    prompt = unique_prompt("make it a watercolour")
    job = submit(
        api,
        prompt=prompt,
        referenceImages=[
            {"b64": _b64(png)},
            {"b64": f"data:image/jpeg;base64,{_b64(jpeg)}", "mimeType": "image/jpeg"},
        ],
    )

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    assert done["mode"] == "edit"
    [sent] = simulator.requests_for(prompt)
    assert sent["references"] == [
        {"mimeType": "image/png", "bytes": len(png), "sha256": _sha(png)},
        {"mimeType": "image/jpeg", "bytes": len(jpeg), "sha256": _sha(jpeg)},
    ]
    stored = jobs_container.read_item(job["id"], partition_key="dev")
    blobs = stored["spec"]["referenceBlobs"]
    day = stored["createdAt"][:10]
    assert blobs == [f"inputs/dev/{day}/{job['id']}/ref-0.png", f"inputs/dev/{day}/{job['id']}/ref-1.jpg"]
    assert blob_service.get_blob_client("inputs", blobs[1]).download_blob().readall() == jpeg


def test_gpt_image_edits_get_several_images_and_the_mask_as_multipart(
    api: httpx.Client, simulator: Simulator
) -> None:
    first, second = _encode((64, 64)), _encode((40, 40), "WEBP")
    mask = _encode((64, 64), mode="RGBA")
    prompt = unique_prompt("put a table in the masked area")
    job = submit(
        api,
        prompt=prompt,
        provider="azure-openai",
        model="gpt-image-2",
        size="1024x1024",
        referenceImages=[{"b64": _b64(first)}, {"b64": _b64(second)}],
        mask={"b64": _b64(mask)},
    )

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    [sent] = simulator.requests_for(prompt)
    assert sent["path"] == "/openai/deployments/gpt-image-2/images/edits"
    assert [ref["sha256"] for ref in sent["references"]] == [_sha(first), _sha(second)]
    assert [ref["mimeType"] for ref in sent["references"]] == ["image/png", "image/webp"]
    assert sent["mask"] == {"mimeType": "image/png", "bytes": len(mask), "sha256": _sha(mask)}
    assert sent["body"]["size"] == "1024x1024"
    assert sent["body"]["model"] == "gpt-image-2"


def test_an_earlier_output_is_chained_by_id_and_by_url(api: httpx.Client, simulator: Simulator) -> None:
    base = wait_for_terminal(api, submit(api, prompt=unique_prompt("a base image"), n=2)["id"])
    assert base["status"] == "succeeded", base
    first_bytes = httpx.get(base["outputs"][0]["url"]).content
    second_bytes = httpx.get(base["outputs"][1]["url"]).content

    prompt = unique_prompt("add a sepia tone")
    job = submit(
        api,
        prompt=prompt,
        referenceImages=[
            {"outputId": base["id"]},
            {"outputId": f"{base['id']}-1"},
            {"url": base["outputs"][0]["url"]},
        ],
    )
    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    [sent] = simulator.requests_for(prompt)
    assert [ref["sha256"] for ref in sent["references"]] == [
        _sha(first_bytes),
        _sha(second_bytes),
        _sha(first_bytes),
    ]


def test_another_tenants_output_cannot_be_chained(api: httpx.Client, jobs_container: ContainerProxy) -> None:
    other = str(uuid.uuid4())
    jobs_container.create_item(
        {
            "id": other,
            "tenantId": "someone-else",
            "docType": "job",
            "status": "succeeded",
            "spec": {
                "prompt": "p",
                "provider": "gemini",
                "model": "gemini-2.5-flash-image",
                "aspectRatio": "1:1",
            },
            "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:00.000Z",
            "outputs": [
                {
                    "index": 0,
                    "container": "generated",
                    "blobName": "images/someone-else/x-0.png",
                    "mimeType": "image/png",
                    "width": 1,
                    "height": 1,
                    "bytes": 1,
                }
            ],
        }
    )

    response = api.post(
        "/v1/images/generations", json={"prompt": "x", "referenceImages": [{"outputId": other}]}
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "referenceImages[0].outputId"


def _refused(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/v1/images/generations", json={"prompt": unique_prompt("refused"), **body})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return dict(error)


REF = {"b64": _b64(_encode((64, 64)))}
AZURE = {"provider": "azure-openai", "model": "gpt-image-1"}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {**AZURE, "mask": {"b64": _b64(_encode((64, 64), mode="RGBA"))}},
            "mask",
            "needs at least one reference",
        ),
        (
            {"referenceImages": [REF], "mask": {"b64": _b64(_encode((64, 64), mode="RGBA"))}},
            "mask",
            "azure-openai",
        ),
        (
            {**AZURE, "referenceImages": [REF], "mask": {"b64": _b64(_encode((64, 64), "JPEG"))}},
            "mask",
            "PNG",
        ),
        ({**AZURE, "referenceImages": [REF], "mask": {"b64": _b64(_encode((64, 64)))}}, "mask", "alpha"),
        (
            {**AZURE, "referenceImages": [REF], "mask": {"b64": _b64(_encode((32, 64), mode="RGBA"))}},
            "mask",
            "dimensions",
        ),
        (
            {"provider": "azure-openai", "model": "dall-e-3", "referenceImages": [REF]},
            "referenceImages",
            "dall-e-3",
        ),
        (
            {"referenceImages": [{"b64": _b64(b"GIF89a not supported")}]},
            "referenceImages[0]",
            "PNG, JPEG or WebP",
        ),
        ({"referenceImages": [{"b64": "%%% not base64"}]}, "referenceImages[0].b64", "base64"),
        (
            {"referenceImages": [{"b64": REF["b64"], "mimeType": "image/jpeg"}]},
            "referenceImages[0].mimeType",
            "bytes are image/png",
        ),
        ({"referenceImages": [{"outputId": "not-an-id"}]}, "referenceImages[0].outputId", "jobId"),
        ({"referenceImages": [{"outputId": str(uuid.uuid4())}]}, "referenceImages[0].outputId", "No output"),
        ({"referenceImages": [REF] * 6}, "referenceImages", "at most 5"),
        (
            {"referenceImages": [{"b64": REF["b64"], "url": "https://images.example.com/a.png"}]},
            "referenceImages.0",
            "exactly one",
        ),
    ],
)
def test_reference_and_mask_violations_are_400(
    api: httpx.Client, body: dict[str, Any], field: str, message: str
) -> None:
    error = _refused(api, body)

    assert any(detail["field"].startswith(field) for detail in error["details"]), error
    assert message in error["message"], error


def test_hostile_reference_urls_are_refused(api: httpx.Client, stack: LocalStack) -> None:
    # The simulator and the API are on loopback too, but only the storage account is a dev host.
    hostile = [
        "http://images.example.com/a.png",
        "file:///etc/passwd",
        "ftp://images.example.com/a.png",
        "https://evil.example.net/a.png",
        "https://169.254.169.254/metadata/instance",
        "https://168.63.129.16/",
        "https://[::1]/a.png",
        "http://localhost/a.png",
        f"{stack.endpoints.simulator_url}/_sim/health",
        f"{stack.endpoints.api_url}/v1/images/generations",
        "https://images.example.com/a.png",  # allowlisted, but does not resolve here
    ]
    for url in hostile:
        error = _refused(api, {"referenceImages": [{"url": url}]})
        assert error["details"][0]["field"] == "referenceImages[0].url", (url, error)
        assert "The URL was refused" in error["message"], (url, error)


def test_a_refused_reference_stores_nothing(api: httpx.Client, blob_service: BlobServiceClient) -> None:
    before = {blob.name for blob in blob_service.get_container_client("inputs").list_blobs()}
    _refused(api, {"referenceImages": [REF, {"url": "https://evil.example.net/a.png"}]})
    after = {blob.name for blob in blob_service.get_container_client("inputs").list_blobs()}
    assert after == before


def _noise_png(width: int, height: int) -> bytes:
    """An incompressible PNG: about 3 bytes per pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, format="PNG")
    return out.getvalue()


def test_reference_size_caps_per_image_and_in_total(api: httpx.Client) -> None:
    big = _noise_png(850, 800)  # over REFERENCE_MAX_BYTES (2,000,000) in the test settings
    assert len(big) > 2_000_000
    error = _refused(api, {"referenceImages": [{"b64": _b64(big)}]})
    assert "larger than 2000000 bytes" in error["message"]

    medium = _noise_png(600, 600)  # each within the cap, three together over REFERENCE_TOTAL_MAX_BYTES
    assert 1_000_000 < len(medium) < 2_000_000
    error = _refused(api, {"referenceImages": [{"b64": _b64(medium)}] * 3})
    assert "at most 3000000 are accepted" in error["message"]
