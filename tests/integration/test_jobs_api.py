"""Jobs over HTTP: list, cancel, delete, management URLs, sync mode, response formats, idempotency."""

from __future__ import annotations

import base64
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy
from azure.storage.blob import BlobServiceClient

from devtools.stack.stack import LocalStack
from tests.integration.conftest import QueueFactory, Simulator, submit, unique_prompt, wait_for_terminal

pytestmark = pytest.mark.integration


def _now_iso(offset: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + offset).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stored_job(
    job_id: str, tenant: str, *, status: str = "queued", prompt: str = "stored directly"
) -> dict[str, Any]:
    now = _now_iso()
    return {
        "id": job_id,
        "tenantId": tenant,
        "docType": "job",
        "status": status,
        "spec": {
            "prompt": prompt,
            "provider": "gemini",
            "model": "gemini-2.5-flash-image",
            "aspectRatio": "1:1",
        },
        "createdAt": now,
        "updatedAt": now,
    }


def _all_pages(api: httpx.Client, **params: Any) -> list[list[dict[str, Any]]]:
    pages = []
    token = None
    while True:
        query = {**params, **({"pageToken": token} if token else {})}
        response = api.get("/v1/images/generations", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        token = body["nextPageToken"]
        if token is None:
            return pages


def _wait_until_drained(queue: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if queue.get_queue_properties().approximate_message_count == 0:
            return
        time.sleep(0.2)
    raise AssertionError("queue did not drain")


def _blobs_of(blob_service: BlobServiceClient, job_id: str) -> list[str]:
    container = blob_service.get_container_client("generated")
    return [blob.name for blob in container.list_blobs(name_starts_with="images/dev/") if job_id in blob.name]


# --- list ----------------------------------------------------------------------------------------------


def test_the_list_pages_newest_first_with_continuation_tokens_and_filters(api: httpx.Client) -> None:
    jobs = []
    for n in range(3):
        jobs.append(submit(api, prompt=unique_prompt(f"listed {n}")))
        time.sleep(0.01)  # distinct creation times
    ids = [job["id"] for job in jobs]
    since = jobs[0]["createdAt"]
    for job_id in ids:
        wait_for_terminal(api, job_id)

    pages = _all_pages(api, createdFrom=since, limit=2)

    listed = [job["id"] for page in pages for job in page]
    assert listed == list(reversed(ids))
    assert [len(page) for page in pages][:1] == [2]
    first = pages[0][0]
    assert first["statusQueryGetUri"].endswith(f"/v1/images/generations/{first['id']}")
    assert first["terminatePostUri"] == first["statusQueryGetUri"] + "/cancel"
    assert first["outputs"][0]["url"].startswith("http")

    until_second = api.get(
        "/v1/images/generations", params={"createdFrom": since, "createdTo": pages[0][1]["createdAt"]}
    ).json()
    assert [job["id"] for job in until_second["items"]] == [ids[0]]
    failed = api.get("/v1/images/generations", params={"createdFrom": since, "status": "failed"}).json()
    assert failed["items"] == []


def test_list_parameters_are_validated(api: httpx.Client) -> None:
    too_many = api.get("/v1/images/generations", params={"limit": 101})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["details"][0]["field"] == "limit"
    assert api.get("/v1/images/generations", params={"status": "done"}).status_code == 400
    bad_token = api.get("/v1/images/generations", params={"pageToken": "not-a-token"})
    assert bad_token.status_code == 400
    assert bad_token.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_page_token_of_another_query_is_refused(api: httpx.Client) -> None:
    for _ in range(2):
        submit(api, prompt=unique_prompt("token owner"))
    token = api.get("/v1/images/generations", params={"limit": 1}).json()["nextPageToken"]
    assert token

    reused = api.get("/v1/images/generations", params={"limit": 1, "status": "failed", "pageToken": token})

    assert reused.status_code == 400


# --- another tenant's jobs ----------------------------------------------------------------------------


def test_another_tenants_job_is_invisible(api: httpx.Client, jobs_container: ContainerProxy) -> None:
    job_id = str(uuid.uuid4())
    jobs_container.create_item(_stored_job(job_id, "other-tenant", status="succeeded"))

    for response in (
        api.get(f"/v1/images/generations/{job_id}"),
        api.get(f"/v1/images/generations/{job_id}", params={"includeDeleted": "true"}),
        api.post(f"/v1/images/generations/{job_id}/cancel"),
        api.delete(f"/v1/images/generations/{job_id}", params={"hard": "true"}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NOT_FOUND"
    listed = _all_pages(api, includeDeleted="true", limit=100)
    assert job_id not in {job["id"] for page in listed for job in page}
    assert jobs_container.read_item(job_id, partition_key="other-tenant")["status"] == "succeeded"


# --- cancel --------------------------------------------------------------------------------------------


def test_a_queued_job_is_canceled_at_once_and_never_processed(
    api: httpx.Client, jobs_container: ContainerProxy, queues: QueueFactory, simulator: Simulator
) -> None:
    job_id = str(uuid.uuid4())
    prompt = unique_prompt("never drawn")
    jobs_container.create_item(_stored_job(job_id, "dev", prompt=prompt))

    response = api.post(f"/v1/images/generations/{job_id}/cancel")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "canceled"
    assert response.json()["canceledAt"]
    # Its message arrives late: the worker leaves the job as it is.
    queue = queues("generation-jobs")
    queue.send_message(f'{{"jobId": "{job_id}", "tenantId": "dev"}}')
    _wait_until_drained(queue)
    assert jobs_container.read_item(job_id, partition_key="dev")["status"] == "canceled"
    assert simulator.requests_for(prompt) == []


def test_canceling_a_finished_job_is_a_409(api: httpx.Client) -> None:
    job = submit(api, prompt=unique_prompt("done already"))
    wait_for_terminal(api, job["id"])

    response = api.post(job["terminatePostUri"].removeprefix(str(api.base_url).rstrip("/")))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "JOB_NOT_CANCELABLE"
    assert response.json()["error"]["details"] == {"status": "succeeded"}


def test_a_running_job_canceled_stores_no_image(
    api: httpx.Client,
    simulator: Simulator,
    queues: QueueFactory,
    jobs_container: ContainerProxy,
    blob_service: BlobServiceClient,
    stack: LocalStack,
) -> None:
    assert stack.endpoints.simulator_url
    configure = f"{stack.endpoints.simulator_url}/_sim/config"
    httpx.post(configure, json={"latencyMs": 3000}).raise_for_status()
    try:
        prompt = unique_prompt("canceled mid-flight")
        job = submit(api, prompt=prompt)
        deadline = time.monotonic() + 20
        while api.get(f"/v1/images/generations/{job['id']}").json()["status"] != "running":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.1)

        canceled = api.post(f"/v1/images/generations/{job['id']}/cancel")

        assert canceled.status_code == 200
        assert canceled.json()["status"] == "canceled"
        _wait_until_drained(queues("generation-jobs"))
    finally:
        httpx.post(configure, json={"latencyMs": 0}).raise_for_status()
    assert len(simulator.requests_for(prompt)) == 1  # the provider was called ...
    stored = jobs_container.read_item(job["id"], partition_key="dev")
    assert stored["status"] == "canceled"  # ... but its answer was dropped
    assert stored["outputs"] == []
    assert _blobs_of(blob_service, job["id"]) == []


# --- delete --------------------------------------------------------------------------------------------


def test_soft_delete_hides_the_job_and_hard_delete_removes_it_with_its_images(
    api: httpx.Client, jobs_container: ContainerProxy, blob_service: BlobServiceClient
) -> None:
    job = submit(api, prompt=unique_prompt("to delete"))
    wait_for_terminal(api, job["id"])
    url = f"/v1/images/generations/{job['id']}"
    assert job["purgeHistoryDeleteUri"] == job["statusQueryGetUri"]

    assert api.delete(url).status_code == 204

    assert api.get(url).status_code == 404
    shown = api.get(url, params={"includeDeleted": "true"})
    assert shown.status_code == 200 and shown.json()["deletedAt"]
    since = {"createdFrom": job["createdAt"]}
    assert job["id"] not in {j["id"] for page in _all_pages(api, **since) for j in page}
    assert job["id"] in {j["id"] for page in _all_pages(api, **since, includeDeleted="true") for j in page}
    assert len(_blobs_of(blob_service, job["id"])) == 1  # a soft delete keeps the image
    assert api.delete(url).status_code == 404

    assert api.delete(url, params={"hard": "true"}).status_code == 204

    assert api.get(url, params={"includeDeleted": "true"}).status_code == 404
    assert (
        list(
            jobs_container.query_items(
                "SELECT * FROM c WHERE c.tenantId = 'dev' AND c.id = @id",
                parameters=[{"name": "@id", "value": job["id"]}],
                partition_key="dev",
            )
        )
        == []
    )
    assert _blobs_of(blob_service, job["id"]) == []


# --- sync mode -----------------------------------------------------------------------------------------


def test_prefer_wait_answers_200_with_the_result(api: httpx.Client) -> None:
    response = api.post(
        "/v1/images/generations", json={"prompt": unique_prompt("right away")}, headers={"Prefer": "wait=30"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["Preference-Applied"] == "wait=30"
    body = response.json()
    assert body["status"] == "succeeded"
    assert httpx.get(body["outputs"][0]["url"]).status_code == 200


def test_prefer_wait_that_runs_out_answers_202(api: httpx.Client, stack: LocalStack) -> None:
    configure = f"{stack.endpoints.simulator_url}/_sim/config"
    httpx.post(configure, json={"latencyMs": 4000}).raise_for_status()
    try:
        started = time.monotonic()
        response = api.post(
            "/v1/images/generations", json={"prompt": unique_prompt("slow")}, headers={"Prefer": "wait=1"}
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 202
        assert response.headers["Preference-Applied"] == "wait=1"
        assert response.json()["status"] in {"queued", "running"}
        assert 1 <= elapsed < 4
        wait_for_terminal(api, response.json()["id"])
    finally:
        httpx.post(configure, json={"latencyMs": 0}).raise_for_status()


# --- response formats ----------------------------------------------------------------------------------


def test_response_format_b64_json_and_both(api: httpx.Client) -> None:
    job = submit(api, prompt=unique_prompt("formats"))
    wait_for_terminal(api, job["id"])
    url = f"/v1/images/generations/{job['id']}"

    [b64_only] = api.get(url, params={"response_format": "b64_json"}).json()["outputs"]
    [both] = api.get(url, params={"response_format": "both"}).json()["outputs"]

    assert b64_only["url"] is None
    image = base64.b64decode(b64_only["b64Json"])
    assert image.startswith(b"\x89PNG") and len(image) == b64_only["bytes"]
    assert httpx.get(both["url"]).content == image
    assert both["b64Json"] == b64_only["b64Json"]
    assert both["id"] == f"{job['id']}-0"
    assert api.get(url, params={"response_format": "jpeg"}).status_code == 400


def test_response_format_applies_to_a_sync_submit(api: httpx.Client) -> None:
    response = api.post(
        "/v1/images/generations",
        params={"response_format": "b64_json"},
        json={"prompt": unique_prompt("inline")},
        headers={"Prefer": "wait=30"},
    )

    assert response.status_code == 200
    assert base64.b64decode(response.json()["outputs"][0]["b64Json"]).startswith(b"\x89PNG")


# --- idempotency ---------------------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_return_the_same_job(
    api: httpx.Client, simulator: Simulator
) -> None:
    prompt = unique_prompt("once")
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = api.post("/v1/images/generations", json={"prompt": prompt}, headers=key)
    wait_for_terminal(api, first.json()["id"])
    again = api.post("/v1/images/generations", json={"prompt": prompt}, headers=key)

    assert first.status_code == 202
    assert again.status_code == 200  # the job has finished by now
    assert again.json()["id"] == first.json()["id"]
    assert len(simulator.requests_for(prompt)) == 1


def test_a_reused_idempotency_key_with_another_body_is_a_409(api: httpx.Client) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post("/v1/images/generations", json={"prompt": unique_prompt("a")}, headers=key)

    reused = api.post("/v1/images/generations", json={"prompt": unique_prompt("b")}, headers=key)

    assert reused.status_code == 409
    error = reused.json()["error"]
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert error["details"]["jobId"] == first.json()["id"]


def test_concurrent_submits_with_one_key_create_one_job(
    api: httpx.Client, simulator: Simulator, jobs_container: ContainerProxy
) -> None:
    prompt = unique_prompt("raced")
    key = {"Idempotency-Key": str(uuid.uuid4())}

    def post(_: int) -> httpx.Response:
        return api.post("/v1/images/generations", json={"prompt": prompt}, headers=key)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(post, range(4)))

    assert {r.status_code for r in responses} <= {200, 202}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    stored = list(
        jobs_container.query_items(
            "SELECT c.id FROM c WHERE c.tenantId = 'dev' AND c.spec.prompt = @p",
            parameters=[{"name": "@p", "value": prompt}],
            partition_key="dev",
        )
    )
    assert len(stored) == 1
    wait_for_terminal(api, responses[0].json()["id"])
    assert len(simulator.requests_for(prompt)) == 1
