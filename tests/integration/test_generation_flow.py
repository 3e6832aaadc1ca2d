"""The first flow over HTTP: submit, 202 with status URLs, worker, blob, Cosmos document, image URL."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import httpx
import pytest
from azure.cosmos import ContainerProxy
from azure.storage.blob import BlobServiceClient
from PIL import Image

from devtools.stack.stack import LocalStack
from tests.integration.conftest import (
    QueueFactory,
    Simulator,
    submit,
    unique_prompt,
    wait_for_terminal,
    wait_for_thumbnail,
)

pytestmark = pytest.mark.integration


def test_submit_answers_202_with_durable_style_status_urls(api: httpx.Client, stack: LocalStack) -> None:
    prompt = unique_prompt("a lighthouse at dawn")
    response = api.post("/v1/images/generations", json={"prompt": prompt, "aspectRatio": "16:9"})

    assert response.status_code == 202
    body = response.json()
    status_url = f"{stack.endpoints.api_url}/v1/images/generations/{body['id']}"
    assert body["status"] == "queued"
    assert body["statusQueryGetUri"] == status_url
    assert response.headers["Location"] == status_url
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["x-request-id"]
    created = datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60


def test_generation_reaches_succeeded_with_a_real_image_of_the_asked_aspect_ratio(
    api: httpx.Client,
    simulator: Simulator,
    jobs_container: ContainerProxy,
    blob_service: BlobServiceClient,
) -> None:
    prompt = unique_prompt("a lighthouse at dawn")
    job = submit(api, prompt=prompt, aspectRatio="16:9")

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    assert done["provider"] == "gemini" and done["model"] == "gemini-2.5-flash-image"
    assert done["processingTimeMs"] >= 0
    [output] = done["outputs"]
    image_bytes = httpx.get(output["url"]).raise_for_status().content
    with Image.open(io.BytesIO(image_bytes)) as image:
        assert image.format == "PNG"
        assert image.size == (output["width"], output["height"])
        assert abs(image.size[0] / image.size[1] - 16 / 9) < 0.05
    assert output["bytes"] == len(image_bytes)
    assert output["mimeType"] == "image/png"

    # What went over the wire to Gemini.
    [sent] = simulator.requests_for(prompt)
    assert sent["model"] == "gemini-2.5-flash-image"
    assert sent["aspectRatio"] == "16:9"
    assert sent["apiKey"] == "simulator-key"

    # What was stored.
    stored = jobs_container.read_item(job["id"], partition_key="dev")
    assert stored["status"] == "succeeded"
    assert stored["tenantId"] == "dev"
    blob_name = stored["outputs"][0]["blobName"]
    assert blob_name == f"images/dev/{stored['createdAt'][:10]}/{job['id']}-0.png"
    properties = blob_service.get_blob_client("generated", blob_name).get_blob_properties()
    assert properties.content_settings.content_type == "image/png"
    assert properties.metadata == {
        "jobId": job["id"],
        "tenantId": "dev",
        "provider": "gemini",
        "model": "gemini-2.5-flash-image",
        "imageIndex": "0",
    }


def test_status_is_202_with_retry_after_until_the_job_ends(api: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("http_503", model="gemini-3-pro-image-preview")  # keeps the job busy for a retry
    job = submit(api, prompt=unique_prompt("slow"), model="gemini-3-pro-image-preview")

    response = api.get(f"/v1/images/generations/{job['id']}")

    assert response.status_code == 202
    assert response.json()["status"] in {"queued", "running"}
    assert response.headers["Retry-After"] == "2"
    assert response.headers["Location"].endswith(f"/v1/images/generations/{job['id']}")
    assert wait_for_terminal(api, job["id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    ("model", "aspect_ratio", "size"),
    [
        ("dall-e-3", "9:16", (1024, 1792)),
        ("gpt-image-1", "3:2", (1536, 1024)),
        ("gpt-image-1", "1:1", (1024, 1024)),
    ],
)
def test_azure_openai_maps_the_aspect_ratio_to_the_nearest_supported_size(
    api: httpx.Client, simulator: Simulator, model: str, aspect_ratio: str, size: tuple[int, int]
) -> None:
    prompt = unique_prompt("a red fox in an autumn forest")
    job = submit(api, prompt=prompt, provider="azure-openai", model=model, aspectRatio=aspect_ratio)

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    assert (done["outputs"][0]["width"], done["outputs"][0]["height"]) == size
    assert done["size"] == f"{size[0]}x{size[1]}"
    [sent] = simulator.requests_for(prompt)
    assert sent["path"] == f"/openai/deployments/{model}/images/generations"
    assert sent["query"]["api-version"] == "2025-04-01-preview"
    assert sent["body"]["size"] == f"{size[0]}x{size[1]}"
    if model == "dall-e-3":
        assert sent["body"]["response_format"] == "b64_json"
        assert done["revisedPrompt"] == f"A detailed rendering of {prompt}"
    else:
        assert "response_format" not in sent["body"]
        assert done["usage"]["totalTokens"] == done["usage"]["inputTokens"] + done["usage"]["outputTokens"]


def test_a_redelivered_message_for_a_finished_job_changes_nothing(
    api: httpx.Client, simulator: Simulator, queues: QueueFactory, jobs_container: ContainerProxy
) -> None:
    prompt = unique_prompt("once only")
    job = submit(api, prompt=prompt)
    wait_for_thumbnail(api, job["id"])  # the thumbnail is the job's last write; settle before comparing
    before = jobs_container.read_item(job["id"], partition_key="dev")

    queue = queues("generation-jobs")
    queue.send_message(f'{{"jobId": "{job["id"]}", "tenantId": "dev"}}')
    _wait_until_empty(queue)

    after = jobs_container.read_item(job["id"], partition_key="dev")
    assert after["_etag"] == before["_etag"]
    assert len(simulator.requests_for(prompt)) == 1


def _wait_until_empty(queue: object, timeout: float = 15) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        properties = queue.get_queue_properties()  # type: ignore[attr-defined]
        # The count includes invisible (in-flight) messages: zero means the invocation deleted it.
        if properties.approximate_message_count == 0:
            return
        time.sleep(0.2)
    raise AssertionError("queue did not drain")
