"""Queue, timer and Event Grid triggers with the host's semantics."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import datetime

import httpx
import pytest

from tests.devhost.conftest import EVENTGRID_KEY, FUNCTION_KEY, LEASE_SECONDS, MASTER_KEY, SampleHost

VALIDATION_EVENT = {
    "id": "1",
    "topic": "/subscriptions/x",
    "subject": "",
    "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
    "eventTime": "2026-01-01T00:00:00Z",
    "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"},
    "dataVersion": "1",
}


def _webhook(sample_host: SampleHost, function: str = "on_event", key: str | None = EVENTGRID_KEY) -> str:
    code = f"&code={key}" if key else ""
    return f"{sample_host.url}/runtime/webhooks/eventgrid?functionName={function}{code}"


def test_a_queue_message_reaches_the_function_decoded_with_its_metadata(sample_host: SampleHost) -> None:
    text = f"hello {uuid.uuid4()}"
    sample_host.send("records", text)  # queue name from the %RECORD_QUEUE% binding expression

    state = sample_host.wait_for(lambda s: any(r["body"] == text for r in s["records"]))

    [record] = [r for r in state["records"] if r["body"] == text]
    assert record["dequeueCount"] == 1
    assert record["hasInsertionTime"] and record["hasPopReceipt"]
    assert record["id"]
    inserted, expires = (datetime.fromisoformat(record[k]) for k in ("insertionTime", "expirationTime"))
    assert (expires - inserted).days == 7  # the queue's default time-to-live, from the host's metadata
    assert datetime.fromisoformat(record["nextVisibleTime"]) > inserted
    with sample_host.queue("records") as queue:
        assert queue.get_queue_properties().approximate_message_count == 0  # deleted after success


def test_a_failing_message_is_retried_then_moved_to_the_poison_queue(sample_host: SampleHost) -> None:
    text = f"doomed {uuid.uuid4()}"
    sample_host.send("failing", text)

    state = sample_host.wait_for(lambda s: sum(f["body"] == text for f in s["failures"]) >= 3)

    counts = [f["dequeueCount"] for f in state["failures"] if f["body"] == text]
    assert counts == [1, 2, 3]  # maxDequeueCount is 3 in the sample host.json
    with sample_host.queue("failing-poison") as poison:
        deadline = time.monotonic() + 10
        messages: list[str] = []
        while time.monotonic() < deadline and not messages:
            messages = [m.content for m in poison.receive_messages()]
            time.sleep(0.2)
    assert messages == [base64.b64encode(text.encode()).decode()]  # moved unchanged, still base64
    time.sleep(1.0)
    assert [f["dequeueCount"] for f in sample_host.state()["failures"] if f["body"] == text] == [1, 2, 3]


def test_a_message_that_is_not_base64_goes_straight_to_poison(sample_host: SampleHost) -> None:
    marker = f"not base64 !!! {uuid.uuid4()}"
    with sample_host.queue("failing") as queue:
        queue.send_message(marker)
    with sample_host.queue("failing-poison") as poison:
        deadline = time.monotonic() + 10
        found = False
        while time.monotonic() < deadline and not found:
            found = any(m.content == marker for m in poison.peek_messages(max_messages=32))
            time.sleep(0.2)
    assert found
    assert not any(marker in f["body"] for f in sample_host.state()["failures"])


def test_queue_concurrency_is_bounded_by_batch_size_and_threshold(sample_host: SampleHost) -> None:
    before = sample_host.state()["slow"]["done"]
    for index in range(16):
        sample_host.send("slow", f"job {index}")

    state = sample_host.wait_for(lambda s: s["slow"]["done"] >= before + 16, timeout=30)

    # batchSize 4 + newBatchThreshold 2: more than one batch in flight, never more than six.
    assert 4 <= state["slow"]["max"] <= 6


def test_a_message_outlasting_its_lease_is_renewed_not_redelivered(sample_host: SampleHost) -> None:
    before = sample_host.status()["queues"]["long_runner"]["leaseRenewals"]
    text = f"long {uuid.uuid4()} {LEASE_SECONDS * 2.5}"
    sample_host.send("long", text)

    sample_host.wait_for(lambda s: any(r["body"] == text for r in s["long"]))
    time.sleep(LEASE_SECONDS * 2.5 + 1.5)

    assert [r["dequeueCount"] for r in sample_host.state()["long"] if r["body"] == text] == [1]
    assert sample_host.status()["queues"]["long_runner"]["leaseRenewals"] >= before + 2
    with sample_host.queue("long") as queue:
        assert queue.get_queue_properties().approximate_message_count == 0  # deleted with the new receipt


def test_the_timer_runs_on_startup_and_on_schedule(sample_host: SampleHost) -> None:
    state = sample_host.wait_for(lambda s: len(s["ticks"]) >= 3, timeout=10)

    assert state["ticks"][0]["pastDue"] is False
    assert state["ticks"][-1]["status"] == {}  # a schedule of under a minute is not monitored


def test_a_monitored_schedule_gets_its_status(sample_host: SampleHost) -> None:
    state = sample_host.wait_for(lambda s: len(s["hourly"]) >= 1, timeout=10)

    status = state["hourly"][0]["status"]
    assert set(status) == {"Last", "Next", "LastUpdated"}
    assert datetime.fromisoformat(status["Next"]).minute == 0  # the next whole hour


def test_event_grid_subscription_validation_handshake(sample_host: SampleHost) -> None:
    response = httpx.post(
        _webhook(sample_host), headers={"aeg-event-type": "SubscriptionValidation"}, json=[VALIDATION_EVENT]
    )

    assert response.status_code == 200
    assert response.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}


def test_cloud_events_validation_handshake_echoes_the_origin(sample_host: SampleHost) -> None:
    response = httpx.options(_webhook(sample_host), headers={"WebHook-Request-Origin": "eventgrid.azure.net"})

    assert response.status_code == 200
    assert response.headers["webhook-allowed-origin"] == "eventgrid.azure.net"


def test_event_grid_and_cloud_events_reach_the_function(sample_host: SampleHost) -> None:
    grid_id, cloud_id = str(uuid.uuid4()), str(uuid.uuid4())
    notification = {"aeg-event-type": "Notification"}
    grid = httpx.post(
        _webhook(sample_host),
        headers=notification,
        json=[
            {
                "id": grid_id,
                "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
                "subject": "/blobServices/default/containers/generated/blobs/images/x.png",
                "eventType": "Microsoft.Storage.BlobCreated",
                "eventTime": "2026-01-01T00:00:00Z",
                "data": {"contentLength": 5},
                "dataVersion": "",
                "metadataVersion": "1",
            }
        ],
    )
    cloud = httpx.post(
        _webhook(sample_host),
        headers=notification,
        json={
            "specversion": "1.0",
            "id": cloud_id,
            "source": "/subscriptions/s",
            "subject": "/blobServices/default/containers/generated/blobs/images/y.png",
            "type": "Microsoft.Storage.BlobCreated",
            "time": "2026-01-01T00:00:00Z",
            "data": {"contentLength": 7},
        },
    )

    assert grid.status_code == 202 and cloud.status_code == 202
    events = {e["id"]: e for e in sample_host.state()["events"]}
    assert events[grid_id]["subject"].endswith("images/x.png")
    assert events[grid_id]["eventType"] == "Microsoft.Storage.BlobCreated"
    assert events[grid_id]["data"] == {"contentLength": 5}
    assert events[cloud_id]["topic"] == "/subscriptions/s"
    assert events[cloud_id]["data"] == {"contentLength": 7}
    assert (events[grid_id]["schema"], events[cloud_id]["schema"]) == ("eventgrid", "cloudevents")


@pytest.mark.parametrize(
    ("event_type", "status"),
    [("Unsubscribe", 202), ("unsubscribe", 202), ("Something", 400), (None, 400)],
)
def test_the_webhook_dispatches_on_the_aeg_event_type_header(
    sample_host: SampleHost, event_type: str | None, status: int
) -> None:
    headers = {"aeg-event-type": event_type} if event_type else {}
    before = len(sample_host.state()["events"])

    response = httpx.post(_webhook(sample_host), headers=headers, json=[VALIDATION_EVENT])

    assert response.status_code == status
    assert len(sample_host.state()["events"]) == before  # nothing was invoked


@pytest.mark.parametrize(
    ("key", "status"), [(None, 401), ("wrong", 401), (FUNCTION_KEY, 401), (MASTER_KEY, 202)]
)
def test_the_webhook_needs_the_event_grid_system_key(
    sample_host: SampleHost, key: str | None, status: int
) -> None:
    response = httpx.post(_webhook(sample_host, key=key), headers={"aeg-event-type": "Unsubscribe"}, json=[])

    assert response.status_code == status


def test_the_system_key_is_also_taken_from_the_header(sample_host: SampleHost) -> None:
    response = httpx.post(
        _webhook(sample_host, key=None),
        headers={"aeg-event-type": "Unsubscribe", "x-functions-key": EVENTGRID_KEY},
        json=[],
    )

    assert response.status_code == 202


def test_event_grid_webhook_for_an_unknown_function_is_404(sample_host: SampleHost) -> None:
    response = httpx.post(_webhook(sample_host, "nope"), headers={"aeg-event-type": "Notification"}, json=[])

    assert response.status_code == 404
