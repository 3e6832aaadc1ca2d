"""The local Event Grid emulation for blobs: its subscriptions and the events it sends."""

from __future__ import annotations

import pytest

from devtools.eventgrid.subscriptions import EventGridConfig, blob_created_event
from shared.models.events import BlobCreatedData


def test_local_subscriptions_resolve_settings_into_the_subject_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IMAGES_CONTAINER", "pictures")

    config = EventGridConfig.load()

    [subscription] = config.subscriptions
    assert subscription.function_name == "make_thumbnail"
    assert subscription.subject_begins_with == "/blobServices/default/containers/pictures/blobs/images/"
    assert (subscription.container, subscription.prefix) == ("pictures", "images/")
    assert config.retry_delays
    assert subscription.matches("Microsoft.Storage.BlobCreated", "pictures", "images/t/2026-01-01/j-0.png")
    assert not subscription.matches("Microsoft.Storage.BlobCreated", "pictures", "inputs/t/x.png")
    assert not subscription.matches("Microsoft.Storage.BlobDeleted", "pictures", "images/t/x.png")


def test_a_missing_setting_in_the_filter_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGES_CONTAINER", raising=False)

    with pytest.raises(KeyError, match="IMAGES_CONTAINER"):
        EventGridConfig.load()


def test_events_have_exactly_the_fields_azure_sends() -> None:
    event = blob_created_event(
        account="devstoreaccount1",
        container="generated",
        blob_name="images/dev/2026-11-22/j-0.png",
        url="http://127.0.0.1:10000/devstoreaccount1/generated/images/dev/2026-11-22/j-0.png",
        etag='"0x8DC0FFEE"',
        content_type="image/png",
        content_length=1234,
        blob_type="BlockBlob",
    )

    assert set(event) == {
        "topic", "subject", "eventType", "eventTime", "id", "dataVersion", "metadataVersion", "data",
    }  # fmt: skip
    assert set(event["data"]) == {
        "api", "clientRequestId", "requestId", "eTag", "contentType", "contentLength", "blobType", "url",
        "sequencer", "storageDiagnostics",
    }  # fmt: skip
    assert (
        event["subject"] == "/blobServices/default/containers/generated/blobs/images/dev/2026-11-22/j-0.png"
    )
    assert event["eventType"] == "Microsoft.Storage.BlobCreated"
    data = BlobCreatedData.model_validate(event["data"])
    assert (data.e_tag, data.content_length, data.content_type) == ("0x8DC0FFEE", 1234, "image/png")
