"""Credits over HTTP: reserved at submit, charged on success, refunded on failure or cancel, 402 when
short, and never settled twice."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy

from devtools.stack.stack import LocalStack
from tests.integration.conftest import QueueFactory, Simulator, submit, unique_prompt, wait_for_terminal

pytestmark = pytest.mark.integration

START = 50


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Account:
    def __init__(self, api: httpx.Client, container: ContainerProxy) -> None:
        self._api = api
        self.container = container

    def usage(self) -> dict[str, Any]:
        response = self._api.get("/v1/usage")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def document(self) -> dict[str, Any]:
        return dict(self.container.read_item("balance", partition_key="dev"))

    def set(self, **fields: Any) -> None:
        self.container.replace_item("balance", {**self.document(), **fields})

    def open_holds(self) -> list[str]:
        """The jobs whose credits are held (one hold document each)."""
        query = "SELECT * FROM c WHERE c.tenantId = 'dev' AND c.docType = 'creditHold' AND c.state = 'held'"
        return [h["jobId"] for h in self.container.query_items(query, partition_key="dev")]

    def wait_until_settled(self, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (usage := self.usage())["openReservations"]:
            assert time.monotonic() < deadline, f"reservations still open: {self.open_holds()}"
            time.sleep(0.25)
        return usage


@pytest.fixture
def account(api: httpx.Client, cosmos_containers: Callable[[str], ContainerProxy]) -> Iterator[Account]:
    """The dev tenant's account, once jobs of earlier tests have settled, with a known balance."""
    account = Account(api, cosmos_containers("credits"))
    account.wait_until_settled()
    account.set(balance=START, spent=0)
    yield account
    account.wait_until_settled()
    account.set(balance=1_000_000)


def test_a_succeeded_job_is_reserved_then_charged(
    api: httpx.Client, account: Account, stack: LocalStack
) -> None:
    configure = f"{stack.endpoints.simulator_url}/_sim/config"
    httpx.post(configure, json={"latencyMs": 1500}).raise_for_status()  # keeps the job busy a while
    try:
        job = submit(api, prompt=unique_prompt("paid"))
        held = account.usage()
        done = wait_for_terminal(api, job["id"])
    finally:
        httpx.post(configure, json={"latencyMs": 0}).raise_for_status()
    usage = account.wait_until_settled()

    assert job["credits"] == 1
    assert (held["reserved"], held["available"], held["openReservations"]) == (1, START - 1, 1)

    assert done["status"] == "succeeded"
    assert usage == {
        "balance": START - 1,
        "reserved": 0,
        "available": START - 1,
        "spent": 1,
        "openReservations": 0,
    }


def test_a_failed_job_is_refunded(api: httpx.Client, account: Account, simulator: Simulator) -> None:
    simulator.fault("safety", model="gemini-3.1-flash-image-preview")
    job = submit(api, prompt=unique_prompt("refused"), model="gemini-3.1-flash-image-preview")

    assert wait_for_terminal(api, job["id"])["status"] == "failed"
    usage = account.wait_until_settled()

    assert (usage["balance"], usage["spent"], usage["reserved"]) == (START, 0, 0)


def test_a_canceled_job_is_refunded(api: httpx.Client, account: Account, stack: LocalStack) -> None:
    configure = f"{stack.endpoints.simulator_url}/_sim/config"
    httpx.post(configure, json={"latencyMs": 2000}).raise_for_status()
    try:
        job = submit(api, prompt=unique_prompt("changed my mind"))
        assert api.post(f"/v1/images/generations/{job['id']}/cancel").status_code == 200
        usage = account.wait_until_settled()
    finally:
        httpx.post(configure, json={"latencyMs": 0}).raise_for_status()

    assert (usage["balance"], usage["spent"]) == (START, 0)


def test_an_exhausted_balance_is_402_and_stores_nothing(
    api: httpx.Client,
    account: Account,
    cosmos_containers: Callable[[str], ContainerProxy],
    queues: QueueFactory,
) -> None:
    account.set(balance=0)
    prompt = unique_prompt("cannot afford")

    response = api.post("/v1/images/generations", json={"prompt": prompt})

    assert response.status_code == 402
    assert response.json()["error"] == {
        "code": "INSUFFICIENT_CREDITS",
        "message": "This job costs 1 credit(s); 0 available.",
        "details": {"required": 1, "available": 0},
    }
    query = "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = 'dev' AND c.spec.prompt = @p"
    params: list[dict[str, object]] = [{"name": "@p", "value": prompt}]
    assert list(cosmos_containers("jobs").query_items(query, parameters=params, partition_key="dev")) == [0]
    assert account.open_holds() == [] and account.document()["reserved"] == 0
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert api.post("/v1/images/generations", json={"prompt": prompt}, headers=key).status_code == 402
    account.set(balance=1)  # topped up: the same key now goes through
    retried = api.post("/v1/images/generations", json={"prompt": prompt}, headers=key)
    assert retried.status_code == 202, retried.text
    wait_for_terminal(api, retried.json()["id"])
    assert account.wait_until_settled()["balance"] == 0


def test_concurrent_submits_never_overdraw_the_balance(api: httpx.Client, account: Account) -> None:
    account.set(balance=3)

    def post(n: int) -> httpx.Response:
        return api.post("/v1/images/generations", json={"prompt": unique_prompt(f"race {n}")})

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(post, range(6)))

    assert sorted(r.status_code for r in responses) == [202, 202, 202, 402, 402, 402]
    for response in responses:
        if response.status_code == 202:
            wait_for_terminal(api, response.json()["id"])
    usage = account.wait_until_settled()
    assert (usage["balance"], usage["spent"], usage["reserved"]) == (0, 3, 0)


def test_an_idempotent_replay_reserves_nothing_more(api: httpx.Client, account: Account) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"prompt": unique_prompt("charged once")}
    first = api.post("/v1/images/generations", json=body, headers=key).json()
    wait_for_terminal(api, first["id"])
    again = api.post("/v1/images/generations", json=body, headers=key).json()

    assert again["id"] == first["id"]
    assert account.wait_until_settled()["spent"] == 1


def test_a_redelivered_message_does_not_charge_twice(
    api: httpx.Client, account: Account, queues: QueueFactory
) -> None:
    job = submit(api, prompt=unique_prompt("charged once more"))
    wait_for_terminal(api, job["id"])
    account.wait_until_settled()
    before = account.document()

    queue = queues("generation-jobs")
    queue.send_message(f'{{"jobId": "{job["id"]}", "tenantId": "dev"}}')
    deadline = time.monotonic() + 30
    while queue.get_queue_properties().approximate_message_count:
        assert time.monotonic() < deadline
        time.sleep(0.2)

    after = account.document()
    assert (after["balance"], after["spent"], after["_etag"]) == (
        before["balance"],
        before["spent"],
        before["_etag"],
    )


def test_the_sweep_settles_reservations_a_crash_left_behind(
    api: httpx.Client,
    account: Account,
    stack: LocalStack,
    cosmos_containers: Callable[[str], ContainerProxy],
) -> None:
    now = datetime.now(UTC)
    ended_id, orphan_id, young_id = (str(uuid.uuid4()) for _ in range(3))
    # A job that ended failed, and a crash before its refund; a submit that crashed before its job was
    # stored (an hour ago); one that is storing its job right now.
    cosmos_containers("jobs").create_item(
        {
            "id": ended_id,
            "tenantId": "dev",
            "docType": "job",
            "status": "failed",
            "spec": {
                "prompt": "crashed",
                "provider": "gemini",
                "model": "gemini-2.5-flash-image",
                "aspectRatio": "1:1",
            },
            "createdAt": _iso(now),
            "updatedAt": _iso(now),
            "credits": 2,
        }
    )
    holds = {ended_id: (2, now), orphan_id: (4, now - timedelta(hours=1)), young_id: (1, now)}
    for job_id, (amount, reserved_at) in holds.items():
        account.container.create_item(
            {
                "id": f"hold-{job_id}",
                "tenantId": "dev",
                "docType": "creditHold",
                "jobId": job_id,
                "amount": amount,
                "state": "held",
                "reservedAt": _iso(reserved_at),
            }
        )
    account.set(reserved=7, openReservations=3)

    for _ in range(2):  # the second sweep finds nothing more to do
        response = httpx.post(
            f"{stack.endpoints.host_url}/admin/functions/stale_job_sweeper",
            headers={"x-functions-key": stack.master_key},
            json={"input": ""},
        )
        assert response.status_code == 202

    assert account.open_holds() == [young_id]
    document = account.document()
    assert (document["balance"], document["reserved"], document["spent"]) == (START, 1, 0)
    assert document["openReservations"] == 1
    states = {
        job_id: account.container.read_item(f"hold-{job_id}", partition_key="dev")["state"]
        for job_id in holds
    }
    assert states == {ended_id: "refunded", orphan_id: "refunded", young_id: "held"}
    account.container.delete_item(f"hold-{young_id}", partition_key="dev")
    account.set(reserved=0, openReservations=0)
