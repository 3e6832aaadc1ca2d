"""Thumbnails from Event Grid BlobCreated events: published by the local Event Grid front end after a real
generation, and posted by hand (Event Grid schema and CloudEvents 1.0) to the function's webhook."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.cosmos import ContainerProxy
from azure.storage.blob import BlobServiceClient
from PIL import Image

from devtools.eventgrid.subscriptions import blob_created_event
from devtools.stack.stack import LocalStack
from shared.images.store import image_blob_name
from shared.models.jobs import GenerationSpec, JobDocument, JobStatus, StoredImage
from tests.integration.conftest import submit, unique_prompt, wait_for_thumbnail

pytestmark = pytest.mark.integration

TENANT = "dev"
THUMBNAIL_FIELDS = ("thumbnailContainer", "thumbnailBlobName", "etag", "confirmedBytes")


def _generated_job(api: httpx.Client) -> dict[str, Any]:
    job = submit(api, prompt=unique_prompt("a lighthouse at dawn"), aspectRatio="16:9")
    return wait_for_thumbnail(api, job["id"])


def _event_for(stack: LocalStack, blob_service: BlobServiceClient, blob_name: str) -> dict[str, Any]:
    """The BlobCreated event Azure would send for the blob as it is in storage now."""
    container = stack.settings.images_container
    blob = blob_service.get_blob_client(container, blob_name)
    properties = blob.get_blob_properties()
    return blob_created_event(
        account="devstoreaccount1",
        container=container,
        blob_name=blob_name,
        url=blob.url,
        etag=properties.etag,
        content_type=properties.content_settings.content_type,
        content_length=properties.size,
        blob_type="BlockBlob",
    )


def _as_cloud_event(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": event["eventType"],
        "source": event["topic"],
        "id": event["id"],
        "time": event["eventTime"],
        "subject": event["subject"],
        "data": event["data"],
    }


def _post(stack: LocalStack, body: Any, *, cloud_events: bool = False) -> httpx.Response:
    headers = {"aeg-event-type": "Notification"}
    if cloud_events:
        headers["Content-Type"] = "application/cloudevents+json; charset=utf-8"
    return httpx.post(
        f"{stack.endpoints.host_url}/runtime/webhooks/eventgrid",
        params={"functionName": "make_thumbnail", "code": stack.eventgrid_key},
        json=body,
        headers=headers,
        timeout=60,
    )


def _forget_thumbnail(
    stack: LocalStack, jobs_container: ContainerProxy, blob_service: BlobServiceClient, job_id: str
) -> dict[str, Any]:
    """Test setup: remove the thumbnail the watcher made, blob and record, so only our event can redo it."""
    document = jobs_container.read_item(job_id, partition_key=TENANT)
    output = document["outputs"][0]
    blob_service.get_blob_client(output["thumbnailContainer"], output["thumbnailBlobName"]).delete_blob()
    for name in THUMBNAIL_FIELDS:
        output.pop(name, None)
    jobs_container.replace_item(job_id, document)
    return output


def _thumbnail_exists(blob_service: BlobServiceClient, container: str, name: str) -> bool:
    try:
        blob_service.get_blob_client(container, name).get_blob_properties()
    except ResourceNotFoundError:
        return False
    return True


def test_a_generated_image_gets_its_thumbnail_with_no_call_but_the_submit(
    api: httpx.Client, stack: LocalStack, jobs_container: ContainerProxy, blob_service: BlobServiceClient
) -> None:
    job = _generated_job(api)

    [output] = job["outputs"]
    thumbnail = httpx.get(output["thumbnailUrl"]).raise_for_status().content
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert image.format == "WEBP"
        assert max(image.size) == 256
        assert abs(image.size[0] / image.size[1] - output["width"] / output["height"]) < 0.05
    [stored] = jobs_container.read_item(job["id"], partition_key=TENANT)["outputs"]
    image_blob = blob_service.get_blob_client(stored["container"], stored["blobName"]).get_blob_properties()
    assert stored["etag"] == image_blob.etag.strip('"')
    assert stored["confirmedBytes"] == image_blob.size == output["bytes"]
    assert stored["thumbnailContainer"] == stack.settings.thumbnails_container
    assert stored["thumbnailBlobName"] == stored["blobName"].rsplit(".", 1)[0] + ".webp"
    thumbnail_blob = blob_service.get_blob_client(stored["thumbnailContainer"], stored["thumbnailBlobName"])
    properties = thumbnail_blob.get_blob_properties()
    assert properties.content_settings.content_type == "image/webp"
    assert properties.metadata["jobId"] == job["id"]


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
def test_a_posted_blob_created_event_makes_and_records_the_thumbnail(
    schema: str,
    api: httpx.Client,
    stack: LocalStack,
    jobs_container: ContainerProxy,
    blob_service: BlobServiceClient,
) -> None:
    job = _generated_job(api)
    output = _forget_thumbnail(stack, jobs_container, blob_service, job["id"])
    thumbnails = stack.settings.thumbnails_container
    thumbnail_name = output["blobName"].rsplit(".", 1)[0] + ".webp"
    assert not _thumbnail_exists(blob_service, thumbnails, thumbnail_name)
    event = _event_for(stack, blob_service, output["blobName"])

    if schema == "cloudevents":
        response = _post(stack, _as_cloud_event(event), cloud_events=True)
    else:
        response = _post(stack, [event])

    assert response.status_code == 202, response.text
    assert _thumbnail_exists(blob_service, thumbnails, thumbnail_name)
    [stored] = jobs_container.read_item(job["id"], partition_key=TENANT)["outputs"]
    assert stored["thumbnailBlobName"] == thumbnail_name
    assert stored["etag"] == event["data"]["eTag"]
    assert stored["confirmedBytes"] == event["data"]["contentLength"]
    assert api.get(f"/v1/images/generations/{job['id']}").json()["outputs"][0]["thumbnailUrl"]


def test_a_duplicate_event_changes_nothing(
    api: httpx.Client, stack: LocalStack, jobs_container: ContainerProxy, blob_service: BlobServiceClient
) -> None:
    job = _generated_job(api)
    before = jobs_container.read_item(job["id"], partition_key=TENANT)
    output = before["outputs"][0]
    thumbnail = blob_service.get_blob_client(output["thumbnailContainer"], output["thumbnailBlobName"])
    thumbnail_etag = thumbnail.get_blob_properties().etag
    event = _event_for(stack, blob_service, output["blobName"])

    responses = [_post(stack, [event]), _post(stack, [{**event, "id": str(uuid.uuid4())}])]

    assert [r.status_code for r in responses] == [202, 202]
    after = jobs_container.read_item(job["id"], partition_key=TENANT)
    assert after["_etag"] == before["_etag"]
    assert thumbnail.get_blob_properties().etag == thumbnail_etag


def test_events_for_blobs_the_service_does_not_know_change_nothing(
    stack: LocalStack, blob_service: BlobServiceClient
) -> None:
    images = stack.settings.images_container
    thumbnails = stack.settings.thumbnails_container
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    unknown_job = f"images/{TENANT}/{today}/{uuid.uuid4()}-0.png"
    blob_service.get_blob_client(images, unknown_job).upload_blob(b"not an image at all", overwrite=True)
    known_shape = _event_for(stack, blob_service, unknown_job)
    elsewhere = "/blobServices/default/containers/elsewhere/blobs/images/x/2026-01-01/y-0.png"
    events = [
        known_shape,  # a well-formed path, but no such job
        {**known_shape, "subject": f"/blobServices/default/containers/{images}/blobs/notes/readme.txt"},
        {**known_shape, "subject": elsewhere},
        {**known_shape, "eventType": "Microsoft.Storage.BlobDeleted"},
    ]

    responses = [_post(stack, [event]) for event in events]

    assert [r.status_code for r in responses] == [202] * len(events)
    assert not _thumbnail_exists(blob_service, thumbnails, unknown_job.rsplit(".", 1)[0] + ".webp")


def test_an_event_ahead_of_the_job_record_fails_so_event_grid_redelivers_it(
    stack: LocalStack, jobs_container: ContainerProxy, blob_service: BlobServiceClient
) -> None:
    # The worker uploads the image before it records the output: seed exactly that moment.
    now = datetime.now(UTC)
    job = JobDocument(
        id=str(uuid.uuid4()),
        tenant_id=TENANT,
        status=JobStatus.RUNNING,
        spec=GenerationSpec(
            prompt="early", provider="gemini", model="gemini-2.5-flash-image", aspect_ratio="1:1"
        ),
        created_at=now,
        updated_at=now,
    )
    jobs_container.create_item(job.model_dump(mode="json"))
    png = io.BytesIO()
    Image.new("RGB", (64, 32), (10, 120, 200)).save(png, format="PNG")
    images = stack.settings.images_container
    blob_name = image_blob_name(TENANT, now, job.id, 0, "png")
    blob_service.get_blob_client(images, blob_name).upload_blob(png.getvalue(), overwrite=True)
    event = _event_for(stack, blob_service, blob_name)
    thumbnail_name = blob_name.rsplit(".", 1)[0] + ".webp"

    early = _post(stack, [event])

    assert early.status_code == 500
    assert not _thumbnail_exists(blob_service, stack.settings.thumbnails_container, thumbnail_name)
    document = jobs_container.read_item(job.id, partition_key=TENANT)
    document["status"] = "succeeded"
    document["outputs"] = [
        StoredImage(
            index=0, container=images, blob_name=blob_name, mime_type="image/png", width=64, height=32,
            bytes=len(png.getvalue()),
        ).model_dump(mode="json")
    ]  # fmt: skip
    jobs_container.replace_item(job.id, document)

    redelivered = _post(stack, [event])

    assert redelivered.status_code == 202
    assert _thumbnail_exists(blob_service, stack.settings.thumbnails_container, thumbnail_name)
    [stored] = jobs_container.read_item(job.id, partition_key=TENANT)["outputs"]
    assert stored["confirmedBytes"] == len(png.getvalue())
    assert stored["etag"] == event["data"]["eTag"]
