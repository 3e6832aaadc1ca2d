"""Webhooks over HTTP: signed deliveries to a receiver on loopback, retries, refused targets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy

from tests.integration.conftest import (
    QueueFactory,
    Simulator,
    submit,
    unique_prompt,
    wait_for_terminal,
    wait_for_thumbnail,
)
from tests.integration.webhook_receiver import Delivery, Receiver

pytestmark = pytest.mark.integration


def _secret(api: httpx.Client) -> str:
    response = api.get("/v1/webhooks/secret")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return str(response.json()["secret"])


def _verify(secret: str, delivery: Delivery) -> None:
    """Standard Webhooks verification, written from the spec, not from our code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = (
        f"{delivery.headers['webhook-id']}.{delivery.headers['webhook-timestamp']}.".encode() + delivery.body
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    scheme, _, signature = delivery.headers["webhook-signature"].partition(",")
    assert scheme == "v1"
    assert hmac.compare_digest(signature, expected)
    assert abs(time.time() - int(delivery.headers["webhook-timestamp"])) < 300


def _drain(queues: QueueFactory, name: str = "webhooks", timeout: float = 30) -> None:
    queue = queues(name)
    deadline = time.monotonic() + timeout
    while queue.get_queue_properties().approximate_message_count:
        assert time.monotonic() < deadline, f"{name} did not drain"
        time.sleep(0.2)


def test_every_asked_event_is_delivered_signed(api: httpx.Client, receiver: Receiver) -> None:
    path = receiver.path()
    job = submit(
        api,
        prompt=unique_prompt("hooked"),
        webhook=receiver.url(path),
        webhookEvents=["queued", "running", "completed"],
    )
    assert job["webhook"] == receiver.url(path)
    done = wait_for_terminal(api, job["id"])

    deliveries = receiver.wait_for(path, 3)

    secret = _secret(api)
    assert secret.startswith("whsec_")
    by_type = {d.json["type"]: d for d in deliveries}
    assert set(by_type) == {"job.queued", "job.running", "job.completed"}
    for delivery in deliveries:
        _verify(secret, delivery)
        assert delivery.headers["Content-Type"] == "application/json"
    completed = by_type["job.completed"]
    assert completed.headers["webhook-id"] == f"{job['id']}.completed"
    data = completed.json["data"]
    assert data["id"] == job["id"] and data["status"] == "succeeded"
    assert data["statusQueryGetUri"] == done["statusQueryGetUri"]
    assert data["outputs"][0]["id"] == f"{job['id']}-0"
    assert httpx.get(data["outputs"][0]["url"]).status_code == 200
    # A late delivery's SAS URL may have expired; its permanent link is the job's own.
    assert data["outputs"][0]["permanentUrl"] == done["outputs"][0]["permanentUrl"]
    assert by_type["job.queued"].json["data"]["status"] == "queued"
    assert by_type["job.running"].json["data"]["status"] == "running"


def test_by_default_only_completion_is_sent_and_a_failure_is_reported(
    api: httpx.Client, receiver: Receiver, simulator: Simulator, queues: QueueFactory
) -> None:
    simulator.fault("safety", model="gemini-3.1-flash-image-preview")
    path = receiver.path()
    job = submit(
        api,
        prompt=unique_prompt("refused"),
        model="gemini-3.1-flash-image-preview",
        webhook=receiver.url(path),
    )
    wait_for_terminal(api, job["id"])

    [delivery] = receiver.wait_for(path, 1)
    _drain(queues)

    assert len(receiver.deliveries[path]) == 1
    assert delivery.json["type"] == "job.completed"
    assert delivery.json["data"]["status"] == "failed"
    assert delivery.json["data"]["error"]["code"] == "CONTENT_POLICY"


def test_a_failed_delivery_is_retried_and_never_changes_the_job(
    api: httpx.Client, receiver: Receiver, cosmos_containers: Callable[[str], ContainerProxy]
) -> None:
    path = receiver.path(500, 503, 200)
    job = submit(api, prompt=unique_prompt("flaky receiver"), webhook=receiver.url(path))
    wait_for_thumbnail(api, job["id"])  # the thumbnail is the job's last write; compare after it
    stored = cosmos_containers("jobs").read_item(job["id"], partition_key="dev")

    first, second, third = receiver.wait_for(path, 3)

    assert {d.headers["webhook-id"] for d in (first, second, third)} == {f"{job['id']}.completed"}
    assert first.body == third.body  # the event as it happened, not re-read
    later = cosmos_containers("jobs").read_item(job["id"], partition_key="dev")
    assert later["_etag"] == stored["_etag"]


@pytest.mark.parametrize(
    ("webhook", "reason"),
    [
        ("https://10.0.0.5/hook", "private"),
        ("https://192.168.1.20:8443/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[::1]/hook", "loopback"),
        ("https://localhost/hook", "loopback"),  # loopback by name; not a development host in the tests
        ("http://example.com/hook", "https"),
        ("ftp://example.com/hook", "https"),
        ("https://user:pass@example.com/hook", "credentials"),
    ],
)
def test_a_webhook_to_a_private_or_unsafe_target_is_refused_at_submit(
    api: httpx.Client, cosmos_containers: Callable[[str], ContainerProxy], webhook: str, reason: str
) -> None:
    prompt = unique_prompt("never queued")

    response = api.post("/v1/images/generations", json={"prompt": prompt, "webhook": webhook})

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    [detail] = error["details"]
    assert detail["field"] == "webhook" and reason in detail["message"]
    query = "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = 'dev' AND c.spec.prompt = @p"
    params: list[dict[str, object]] = [{"name": "@p", "value": prompt}]
    assert list(cosmos_containers("jobs").query_items(query, parameters=params, partition_key="dev")) == [0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"webhookEvents": ["completed"]}, "webhookEvents"),
        ({"webhook": "http://127.0.0.1:9/x", "webhookEvents": ["finished"]}, "webhookEvents.0"),
    ],
)
def test_webhook_events_are_validated(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    response = api.post("/v1/images/generations", json={"prompt": "x", **body})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field
