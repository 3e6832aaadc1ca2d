"""The emulated subscriptions (subscriptions.local.json, the mirror of infra/app/eventgrid.bicep) and the
events they receive."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools.devhost.config import resolve_binding_expression

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
SUBSCRIPTIONS_FILE = Path(__file__).with_name("subscriptions.local.json")

_SUBJECT_FILTER = re.compile(
    r"/blobServices/default/containers/(?P<container>[^/]+)(?:/blobs/(?P<prefix>.*))?"
)
# The topic a local storage account would have (Azurite has no resource id).
LOCAL_TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
    "Microsoft.Storage/storageAccounts/{account}"
)


@dataclass(frozen=True)
class Subscription:
    name: str
    function_name: str
    subject_begins_with: str
    included_event_types: tuple[str, ...] = (BLOB_CREATED,)

    @property
    def container(self) -> str:
        return self._filter()["container"]

    @property
    def prefix(self) -> str:
        return self._filter()["prefix"] or ""

    def matches(self, event_type: str, container: str, blob_name: str) -> bool:
        return (
            event_type in self.included_event_types
            and container == self.container
            and blob_name.startswith(self.prefix)
        )

    def _filter(self) -> re.Match[str]:
        match = _SUBJECT_FILTER.fullmatch(self.subject_begins_with)
        if match is None:
            raise ValueError(
                f"subscription {self.name}: not a blob subject filter: {self.subject_begins_with}"
            )
        return match


@dataclass(frozen=True)
class EventGridConfig:
    subscriptions: tuple[Subscription, ...]
    retry_delays: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

    @classmethod
    def load(cls, path: Path = SUBSCRIPTIONS_FILE) -> EventGridConfig:
        """Read the file, resolving `%SETTING%` expressions from the app settings."""
        data: dict[str, Any] = json.loads(path.read_text())
        subscriptions = tuple(
            Subscription(
                name=str(item["name"]),
                function_name=str(item["functionName"]),
                subject_begins_with=resolve_binding_expression(str(item["subjectBeginsWith"])),
                included_event_types=tuple(item.get("includedEventTypes") or (BLOB_CREATED,)),
            )
            for item in data.get("subscriptions", [])
        )
        return cls(
            subscriptions=subscriptions,
            retry_delays=tuple(float(d) for d in data.get("retryDelaysSeconds", cls.retry_delays)),
        )


def blob_created_event(
    *,
    account: str,
    container: str,
    blob_name: str,
    url: str,
    etag: str,
    content_type: str | None,
    content_length: int,
    blob_type: str,
    api: str = "PutBlob",
    client_request_id: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A `Microsoft.Storage.BlobCreated` event in the Event Grid schema, with the fields Azure sends."""
    return {
        "topic": LOCAL_TOPIC.format(account=account),
        "subject": f"/blobServices/default/containers/{container}/blobs/{blob_name}",
        "eventType": BLOB_CREATED,
        "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "id": str(uuid.uuid4()),
        "dataVersion": "",
        "metadataVersion": "1",
        "data": {
            "api": api,
            "clientRequestId": client_request_id or str(uuid.uuid4()),
            "requestId": request_id or str(uuid.uuid4()),
            "eTag": etag.strip('"'),
            "contentType": content_type or "application/octet-stream",
            "contentLength": content_length,
            "blobType": blob_type,
            "url": url,
            "sequencer": f"{int(datetime.now(UTC).timestamp() * 1_000_000):032x}",
            "storageDiagnostics": {"batchId": str(uuid.uuid4())},
        },
    }
