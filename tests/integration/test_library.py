"""The image library and the public gallery over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy
from azure.storage.blob import BlobServiceClient

from tests.integration.conftest import submit, unique_prompt, wait_for_terminal

pytestmark = pytest.mark.integration


def _finished(api: httpx.Client, **body: Any) -> dict[str, Any]:
    done = wait_for_terminal(api, submit(api, **body)["id"])
    assert done["status"] == "succeeded", done
    return done


def _copy_job(jobs_container: ContainerProxy, job_id: str, **changes: Any) -> dict[str, Any]:
    """A stored copy of a dev job (same image blob) under a new id, with `changes` applied."""
    source = jobs_container.read_item(job_id, partition_key="dev")
    copy = {k: v for k, v in source.items() if not k.startswith("_")}
    copy.update(id=str(uuid.uuid4()), **changes)
    jobs_container.create_item(copy)
    return copy


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_the_library_lists_the_tenants_images_newest_first_with_search_and_paging(
    api: httpx.Client,
) -> None:
    marker = uuid.uuid4().hex[:10]
    older = _finished(api, prompt=f"a blue kite {marker}")
    newer = _finished(api, prompt=f"a red kite {marker}")

    found = api.get("/v1/images", params={"search": marker.upper()})

    assert _ids(found) == [f"{newer['id']}-0", f"{older['id']}-0"]
    first = found.json()["items"][0]
    assert first["jobId"] == newer["id"] and first["prompt"] == f"a red kite {marker}"
    assert first["mimeType"] == "image/png" and first["width"] > 0
    assert first["contentUrl"].endswith(f"/v1/images/{newer['id']}-0/content")
    assert httpx.get(first["url"]).status_code == 200
    assert _ids(api.get("/v1/images", params={"search": f"RED KITE {marker}"})) == [f"{newer['id']}-0"]

    page_one = api.get("/v1/images", params={"search": marker, "limit": 1}).json()
    page_two = api.get(
        "/v1/images", params={"search": marker, "limit": 1, "pageToken": page_one["nextPageToken"]}
    ).json()
    assert [i["id"] for i in page_one["items"] + page_two["items"]] == [
        f"{newer['id']}-0",
        f"{older['id']}-0",
    ]
    assert page_two["nextPageToken"] is None


def test_the_library_filters_by_preset_and_searches_the_preset_name(
    api: httpx.Client, jobs_container: ContainerProxy
) -> None:
    base = _finished(api, prompt=unique_prompt("preset base"))
    preset_id = f"preset-{uuid.uuid4().hex[:8]}"
    name = f"Sneaker Studio {uuid.uuid4().hex[:6]}"
    tagged = _copy_job(jobs_container, base["id"], presetId=preset_id, presetName=name)

    assert _ids(api.get("/v1/images", params={"presetId": preset_id})) == [f"{tagged['id']}-0"]
    assert _ids(api.get("/v1/images", params={"search": name.lower()})) == [f"{tagged['id']}-0"]


def test_an_image_reads_as_metadata_and_as_bytes_with_download_headers(
    api: httpx.Client, jobs_container: ContainerProxy, blob_service: BlobServiceClient
) -> None:
    job = _finished(api, prompt=unique_prompt("download me"))
    image_id = f"{job['id']}-0"

    metadata = api.get(f"/v1/images/{image_id}")
    content = api.get(f"/v1/images/{image_id}/content")

    assert metadata.status_code == 200
    assert metadata.json()["id"] == image_id and metadata.json()["isPublic"] is False
    assert content.status_code == 200
    blob_name = jobs_container.read_item(job["id"], partition_key="dev")["outputs"][0]["blobName"]
    stored = blob_service.get_blob_client("generated", blob_name).download_blob().readall()
    assert content.content == stored
    assert content.headers["Content-Type"] == "image/png"
    assert content.headers["Content-Length"] == str(len(stored))
    assert content.headers["Content-Disposition"] == f'attachment; filename="{image_id}.png"'
    etag = content.headers["ETag"]
    assert etag

    again = api.get(f"/v1/images/{image_id}/content", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    changed = api.get(f"/v1/images/{image_id}/content", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


@pytest.mark.parametrize("image_id", ["not-an-id", "nothing", f"{uuid.uuid4()}-0", f"{uuid.uuid4()}-x"])
def test_unknown_image_ids_are_404(api: httpx.Client, image_id: str) -> None:
    for path in (f"/v1/images/{image_id}", f"/v1/images/{image_id}/content"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"


def test_another_tenants_images_are_invisible(api: httpx.Client, jobs_container: ContainerProxy) -> None:
    marker = uuid.uuid4().hex[:10]
    job = _finished(api, prompt=f"mine {marker}")
    foreign = _copy_job(jobs_container, job["id"], tenantId="other-tenant")

    assert _ids(api.get("/v1/images", params={"search": marker})) == [f"{job['id']}-0"]
    for path in (f"/v1/images/{foreign['id']}-0", f"/v1/images/{foreign['id']}-0/content"):
        assert api.get(path).status_code == 404


def test_a_deleted_jobs_image_leaves_the_library(api: httpx.Client) -> None:
    marker = uuid.uuid4().hex[:10]
    job = _finished(api, prompt=f"short-lived {marker}")
    assert api.delete(f"/v1/images/generations/{job['id']}").status_code == 204

    assert _ids(api.get("/v1/images", params={"search": marker})) == []
    assert api.get(f"/v1/images/{job['id']}-0").status_code == 404


def test_public_images_of_every_tenant_appear_in_the_gallery_without_auth(
    api: httpx.Client, anonymous: httpx.Client, jobs_container: ContainerProxy
) -> None:
    private = _finished(api, prompt=unique_prompt("private"))
    public = _finished(api, prompt=unique_prompt("public"), isPublic=True)
    foreign = _copy_job(jobs_container, public["id"], tenantId="other-tenant", createdAt=public["createdAt"])

    gallery = anonymous.get("/v1/gallery", params={"limit": 100})

    ids = _ids(gallery)
    assert f"{public['id']}-0" in ids
    assert f"{foreign['id']}-0" in ids
    assert f"{private['id']}-0" not in ids
    item = next(i for i in gallery.json()["items"] if i["id"] == f"{public['id']}-0")
    assert item["isPublic"] is True and item["contentUrl"] is None
    assert httpx.get(item["url"]).status_code == 200
    assert "tenantId" not in item

    first = anonymous.get("/v1/gallery", params={"limit": 1}).json()
    assert len(first["items"]) == 1 and first["nextPageToken"]
    second = anonymous.get("/v1/gallery", params={"limit": 1, "pageToken": first["nextPageToken"]}).json()
    assert second["items"][0]["id"] != first["items"][0]["id"]
    assert second["items"][0]["createdAt"] <= first["items"][0]["createdAt"]
