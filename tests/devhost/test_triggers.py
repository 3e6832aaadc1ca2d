"""Queue, timer and Event Grid triggers with the host's semantics."""

from __future__ import annotations

import base64
import time
import uuid

import httpx

from tests.devhost.conftest import SampleHost


def test_a_queue_message_reaches_the_function_decoded_with_its_metadata(sample_host: SampleHost) -> None:
    text = f"hello {uuid.uuid4()}"
    sample_host.send("records", text)  # queue name from the %RECORD_QUEUE% binding expression

    state = sample_host.wait_for(lambda s: any(r["body"] == text for r in s["records"]))

    [record] = [r for r in state["records"] if r["body"] == text]
    assert record["dequeueCount"] == 1
    assert record["hasInsertionTime"] and record["hasPopReceipt"]
    assert record["id"]
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


def test_the_timer_runs_on_startup_and_on_schedule(sample_host: SampleHost) -> None:
    state = sample_host.wait_for(lambda s: len(s["ticks"]) >= 3, timeout=10)

    assert state["ticks"][0] == {"pastDue": False}


def test_event_grid_subscription_validation_handshake(sample_host: SampleHost) -> None:
    response = httpx.post(
        f"{sample_host.url}/runtime/webhooks/eventgrid?functionName=on_event",
        headers={"aeg-event-type": "SubscriptionValidation"},
        json=[
            {
                "id": "1",
                "topic": "/subscriptions/x",
                "subject": "",
                "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                "eventTime": "2026-01-01T00:00:00Z",
                "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"},
                "dataVersion": "1",
            }
        ],
    )

    assert response.status_code == 200
    assert response.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}


def test_event_grid_and_cloud_events_reach_the_function(sample_host: SampleHost) -> None:
    grid_id, cloud_id = str(uuid.uuid4()), str(uuid.uuid4())
    url = f"{sample_host.url}/runtime/webhooks/eventgrid?functionName=on_event"
    grid = httpx.post(
        url,
        headers={"aeg-event-type": "Notification"},
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
        url,
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

    assert grid.status_code == 200 and cloud.status_code == 200
    events = {e["id"]: e for e in sample_host.state()["events"]}
    assert events[grid_id]["subject"].endswith("images/x.png")
    assert events[grid_id]["eventType"] == "Microsoft.Storage.BlobCreated"
    assert events[grid_id]["data"] == {"contentLength": 5}
    assert events[cloud_id]["topic"] == "/subscriptions/s"
    assert events[cloud_id]["data"] == {"contentLength": 7}


def test_event_grid_webhook_for_an_unknown_function_is_404(sample_host: SampleHost) -> None:
    response = httpx.post(f"{sample_host.url}/runtime/webhooks/eventgrid?functionName=nope", json=[])

    assert response.status_code == 404
