"""Exactly-once effects over at-least-once delivery, against the real stack: duplicate messages, a killed
host, a submit that died before queueing, poison messages and multi-image refusals."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy
from azure.storage.queue import QueueClient

from devtools.stack.stack import LocalStack
from shared.jobs.idempotency import body_hash
from shared.models.jobs import GenerationRequest
from tests.integration.conftest import (
    DEV_KEY,
    QueueFactory,
    Simulator,
    api_client,
    create_key,
    running_stack,
    unique_prompt,
    unique_tenant,
    wait_for_terminal,
)
from tests.integration.contract import Contract
from tests.integration.webhook_receiver import Receiver

pytestmark = pytest.mark.integration

MODEL = "gemini-3.1-flash-image-preview"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def tenant(admin: httpx.Client, stack: LocalStack, contract: Contract) -> Iterator[tuple[str, httpx.Client]]:
    """A tenant of its own (so its credits are its own), and a client holding its key."""
    tenant_id = unique_tenant("once")
    key = create_key(admin, tenant_id, rateLimit=10_000)["key"]
    with api_client(stack, contract, {"X-API-Key": key}) as client:
        yield tenant_id, client


def _sweep(stack: LocalStack) -> None:
    response = httpx.post(
        f"{stack.endpoints.host_url}/admin/functions/stale_job_sweeper",
        headers={"x-functions-key": stack.master_key},
        json={"input": ""},
        timeout=30,
    )
    assert response.status_code == 202


def _wait_for_status(api: httpx.Client, job_id: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while api.get(f"/v1/images/generations/{job_id}").json()["status"] != status:
        assert time.monotonic() < deadline, f"job {job_id} never became {status}"
        time.sleep(0.1)


def _drain(queue: QueueClient, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while queue.get_queue_properties().approximate_message_count:
        assert time.monotonic() < deadline, f"{queue.queue_name} did not drain in {timeout}s"
        time.sleep(0.5)


def _settled_usage(api: httpx.Client, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (usage := api.get("/v1/usage").json())["openReservations"]:
        assert time.monotonic() < deadline, usage
        time.sleep(0.25)
    return dict(usage)


def _downloads(job: dict[str, Any]) -> None:
    for output in job["outputs"]:
        image = httpx.get(output["url"], timeout=30)
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG"), output["url"]


def test_extra_deliveries_of_a_running_job_call_the_provider_once_and_end_it_once(
    tenant: tuple[str, httpx.Client],
    simulator: Simulator,
    queues: QueueFactory,
    receiver: Receiver,
    stack: LocalStack,
) -> None:
    tenant_id, api = tenant
    hook = receiver.path()
    prompt = unique_prompt("delivered three times")
    simulator.fault("slow", model=MODEL, delay_seconds=3)
    job = api.post(
        "/v1/images/generations",
        json={
            "prompt": prompt,
            "model": MODEL,
            "webhook": receiver.url(hook),
            "webhookEvents": ["completed"],
        },
    ).json()
    _wait_for_status(api, job["id"], "running")

    worker_queue = queues("generation-jobs")
    for _ in range(2):
        worker_queue.send_message(json.dumps({"jobId": job["id"], "tenantId": tenant_id}))
    done = wait_for_terminal(api, job["id"])
    # The extra messages were put back until the run's claim would lapse; that they then find the job
    # ended and go is the job core's unit test (tests/unit/test_job_core.py), on a clock it advances.

    assert done["status"] == "succeeded"
    assert len(simulator.requests_for(prompt)) == 1
    _downloads(done)
    usage = _settled_usage(api)
    assert (usage["spent"], usage["reserved"]) == (done["credits"], 0)
    assert len(receiver.wait_for(hook, 1)) == 1
    time.sleep(2)
    assert len(receiver.deliveries[hook]) == 1, "the completed webhook is sent once"
    log = (stack.log_dir / "devhost.log").read_text()
    assert f"Job {job['id']}: not started, run" in log
    assert log.count(f"Job {job['id']} ended succeeded") == 1


@pytest.fixture(scope="module")
def crashable_stack(tmp_path_factory: pytest.TempPathFactory, stack: LocalStack) -> Iterator[LocalStack]:
    """A stack of its own for killing its dev host: the killed host's message stays leased (invisible,
    yet counted on the queue) for minutes, which would confuse tests that wait for the queue to drain."""
    with running_stack(stack.values, tmp_path_factory.mktemp("crashable")) as own:
        yield own


def test_a_job_whose_host_was_killed_mid_run_resumes_and_succeeds(crashable_stack: LocalStack) -> None:
    stack = crashable_stack
    assert stack.endpoints.simulator_url
    prompt = unique_prompt("survives a crash")
    with (
        httpx.Client(base_url=stack.endpoints.simulator_url, timeout=10) as sim,
        httpx.Client(base_url=stack.endpoints.api_url, headers={"X-API-Key": DEV_KEY}, timeout=30) as api,
    ):
        simulator = Simulator(sim)
        simulator.fault("slow", model=MODEL, delay_seconds=120)
        job = api.post("/v1/images/generations", json={"prompt": prompt, "model": MODEL}).json()
        _wait_for_status(api, job["id"], "running")
        deadline = time.monotonic() + 20
        while not simulator.requests_for(prompt):
            assert time.monotonic() < deadline
            time.sleep(0.1)

        stack.crash_devhost()
        stack.restart_devhost()
        # The dead host's message stays leased for minutes; once the run's claim has lapsed (20 s in the
        # test settings) the sweep queues the job again.
        deadline = time.monotonic() + 90
        while (current := api.get(f"/v1/images/generations/{job['id']}")).status_code == 202:
            assert time.monotonic() < deadline, current.json()
            _sweep(stack)
            time.sleep(3)

        done = current.json()
        assert done["status"] == "succeeded", done
        assert len(simulator.requests_for(prompt)) == 2, "the call in flight at the kill, and the resumed one"
        _downloads(done)
        usage = _settled_usage(api)
        assert (usage["spent"], usage["reserved"]) == (done["credits"], 0)


def _stored_unqueued_job(tenant_id: str, prompt: str, written: datetime) -> dict[str, Any]:
    """What a submit leaves when it dies between storing its job and queueing it: a queued job, no
    message, no credit reservation."""
    return {
        "id": str(uuid.uuid4()),
        "tenantId": tenant_id,
        "docType": "job",
        "status": "queued",
        "spec": {"prompt": prompt, "provider": "gemini", "model": MODEL, "aspectRatio": "1:1"},
        "createdAt": _iso(written),
        "updatedAt": _iso(written),
        "credits": 1,
    }


def test_a_job_a_crashed_submit_stored_but_never_queued_is_queued_by_the_sweep(
    tenant: tuple[str, httpx.Client], stack: LocalStack, jobs_container: ContainerProxy
) -> None:
    tenant_id, api = tenant
    document = _stored_unqueued_job(
        tenant_id, unique_prompt("never queued"), datetime.now(UTC) - timedelta(minutes=11)
    )
    jobs_container.create_item(document)

    _sweep(stack)
    done = wait_for_terminal(api, document["id"])

    assert done["status"] == "succeeded"
    _downloads(done)
    usage = _settled_usage(api)
    assert (usage["spent"], usage["reserved"]) == (1, 0)


def test_replaying_the_idempotency_key_of_a_job_never_queued_queues_it(
    tenant: tuple[str, httpx.Client], cosmos_containers: Callable[[str], ContainerProxy]
) -> None:
    tenant_id, api = tenant
    body = {"prompt": unique_prompt("replayed"), "model": MODEL}
    key = f"replay-{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    document = _stored_unqueued_job(tenant_id, body["prompt"], now - timedelta(seconds=30))
    cosmos_containers("jobs").create_item(document)
    digest = body_hash(GenerationRequest.model_validate(body).model_dump_json().encode())
    cosmos_containers("idempotency").create_item(
        {
            "id": hashlib.sha256(key.encode()).hexdigest(),
            "tenantId": tenant_id,
            "key": key,
            "bodyHash": digest,
            "jobId": document["id"],
            "createdAt": _iso(now - timedelta(seconds=30)),
            "expiresAt": _iso(now + timedelta(hours=23)),
            "ttl": 86400,
        }
    )

    replay = api.post("/v1/images/generations", json=body, headers={"Idempotency-Key": key})

    assert replay.status_code == 202 and replay.json()["id"] == document["id"]
    done = wait_for_terminal(api, document["id"])
    assert done["status"] == "succeeded"
    assert _settled_usage(api)["spent"] == 1


def test_a_poison_message_that_is_not_base64_is_dropped_not_moved_again(
    stack: LocalStack, queues: QueueFactory
) -> None:
    settings = stack.settings
    assert settings.storage_connection_string
    raw = QueueClient.from_connection_string(
        settings.storage_connection_string.get_secret_value(), "generation-jobs-poison"
    )
    with raw:
        raw.send_message("%%% neither base64 nor a job {")
        _drain(raw, timeout=30)
    log = (stack.log_dir / "devhost.log").read_text()
    assert "is not a job message; dropped: b'%%% neither base64 nor a job {'" in log
    poison_of_poison = queues("generation-jobs-poison-poison")
    try:
        count = poison_of_poison.get_queue_properties().approximate_message_count
    except Exception:  # the queue does not exist: nothing was ever moved there
        count = 0
    assert count == 0


@pytest.mark.parametrize("faults", [("safety", "http_503"), ("http_503", "safety")])
def test_a_refusal_of_one_of_two_images_is_final_whatever_the_order(
    api: httpx.Client, simulator: Simulator, faults: tuple[str, str]
) -> None:
    for kind in faults:
        simulator.fault(kind, model=MODEL)
    prompt = unique_prompt("two images, one refused")
    job = api.post("/v1/images/generations", json={"prompt": prompt, "model": MODEL, "n": 2}).json()

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "failed"
    assert done["error"]["code"] == "CONTENT_POLICY"
    assert done["retryCount"] == 0
    assert len(simulator.requests_for(prompt)) == 2
