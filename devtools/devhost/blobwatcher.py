"""Event Grid for blobs, locally: Azurite emits no events, so the dev host watches containers itself.

The subscriptions come from one local file (`eventgrid.local.json`, the mirror of
`infra/app/eventgrid.bicep`): each names a function and a subject filter
(`/blobServices/default/containers/{container}/blobs/{prefix}`, `%SETTING%` expressions allowed). The
watcher lists the filtered blobs every `pollIntervalSeconds`, remembers each blob's eTag, and for a new
blob or a new eTag posts a `Microsoft.Storage.BlobCreated` event in the Event Grid schema to the
function's webhook (`/runtime/webhooks/eventgrid?functionName=NAME`), as Event Grid does: one event per
request, `aeg-*` headers, and on a failed delivery retries after `retryDelaysSeconds` before giving up
(where Azure would dead-letter). Blobs present at start are the baseline: no event, as for a new
subscription.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from devtools.devhost.config import resolve_binding_expression

logger = logging.getLogger("devhost")

BLOB_CREATED = "Microsoft.Storage.BlobCreated"

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

    def _filter(self) -> re.Match[str]:
        match = _SUBJECT_FILTER.fullmatch(self.subject_begins_with)
        if match is None:
            raise ValueError(
                f"subscription {self.name}: not a blob subject filter: {self.subject_begins_with}"
            )
        return match


@dataclass(frozen=True)
class WatcherConfig:
    subscriptions: tuple[Subscription, ...]
    poll_interval: float = 1.0
    retry_delays: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

    @classmethod
    def load(cls, path: Path) -> WatcherConfig:
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
            poll_interval=float(data.get("pollIntervalSeconds", 1.0)),
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
            "api": "PutBlob",
            "clientRequestId": str(uuid.uuid4()),
            "requestId": str(uuid.uuid4()),
            "eTag": etag.strip('"'),
            "contentType": content_type or "application/octet-stream",
            "contentLength": content_length,
            "blobType": blob_type,
            "url": url,
            "sequencer": f"{int(datetime.now(UTC).timestamp() * 1_000_000):032x}",
            "storageDiagnostics": {"batchId": str(uuid.uuid4())},
        },
    }


@dataclass
class _Watch:
    subscription: Subscription
    container: ContainerClient
    seen: dict[str, str] = field(default_factory=dict)
    primed: bool = False


class BlobWatcher:
    def __init__(
        self, config: WatcherConfig, *, webhook_base_url: str, connection: str = "AzureWebJobsStorage"
    ):
        connection_string = os.environ.get(connection)
        if not connection_string:
            raise KeyError(f"the blob watcher needs a connection string in {connection!r} (Azurite)")
        self._config = config
        self._service = BlobServiceClient.from_connection_string(connection_string)
        self._webhook_base_url = webhook_base_url.rstrip("/")
        self._watches = [
            _Watch(s, self._service.get_container_client(s.container))
            for s in config.subscriptions
            if BLOB_CREATED in s.included_event_types
        ]
        self._stopping = asyncio.Event()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.delivered = 0

    async def run(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        try:
            while not self._stopping.is_set():
                for watch in self._watches:
                    try:
                        await self._poll(watch)
                    except Exception:
                        logger.warning(
                            "Watching container %s failed", watch.container.container_name, exc_info=True
                        )
                try:
                    await asyncio.wait_for(self._stopping.wait(), self._config.poll_interval)
                except TimeoutError:
                    pass
        finally:
            for task in self._deliveries:
                task.cancel()
            await asyncio.gather(*self._deliveries, return_exceptions=True)
            await self._session.close()
            await self._service.close()

    async def stop(self) -> None:
        self._stopping.set()

    async def _poll(self, watch: _Watch) -> None:
        prefix = watch.subscription.prefix
        async for blob in watch.container.list_blobs(name_starts_with=prefix or None):
            etag = str(blob.etag).strip('"')
            if watch.seen.get(blob.name) == etag:
                continue
            watch.seen[blob.name] = etag
            if not watch.primed:
                continue
            event = blob_created_event(
                account=self._service.account_name or "devstoreaccount1",
                container=watch.container.container_name,
                blob_name=blob.name,
                url=watch.container.get_blob_client(blob.name).url,
                etag=etag,
                content_type=blob.content_settings.content_type,
                content_length=int(blob.size or 0),
                blob_type=str(blob.blob_type.value if blob.blob_type else "BlockBlob"),
            )
            task = asyncio.create_task(self._deliver(watch.subscription, event))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        watch.primed = True

    async def _deliver(self, subscription: Subscription, event: dict[str, Any]) -> None:
        assert self._session is not None
        url = f"{self._webhook_base_url}/runtime/webhooks/eventgrid?functionName={subscription.function_name}"
        delays = (0.0, *self._config.retry_delays)
        for attempt, delay in enumerate(delays, start=1):
            if delay:
                await asyncio.sleep(delay)
            headers = {
                "aeg-event-type": "Notification",
                "aeg-subscription-name": subscription.name.upper(),
                "aeg-delivery-count": str(attempt - 1),
                "aeg-data-version": event["dataVersion"],
                "aeg-metadata-version": event["metadataVersion"],
            }
            try:
                async with self._session.post(url, json=[event], headers=headers) as response:
                    if response.status < 300:
                        self.delivered += 1
                        logger.info(
                            "Event Grid: %s delivered to %s", event["subject"], subscription.function_name
                        )
                        return
                    reason = f"HTTP {response.status}"
            except aiohttp.ClientError as error:
                reason = str(error)
            logger.info("Event Grid: delivery %d of %s failed (%s)", attempt, event["subject"], reason)
        logger.error(
            "Event Grid: %s undeliverable to %s after %d attempts (Azure would dead-letter it)",
            event["subject"],
            subscription.function_name,
            len(delays),
        )
