"""The Blob endpoint's front end: passes every request to Azurite unchanged and, for each successful
write that creates a blob, publishes `Microsoft.Storage.BlobCreated` to the matching subscriptions."""

from __future__ import annotations

import logging
from urllib.parse import unquote

import aiohttp
from aiohttp import web
from azure.storage.blob.aio import BlobServiceClient
from multidict import CIMultiDict

from devtools.eventgrid.delivery import Deliveries
from devtools.eventgrid.subscriptions import BLOB_CREATED, EventGridConfig, blob_created_event

logger = logging.getLogger("eventgrid")

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}
# Writes after which Azure Storage publishes BlobCreated (Put Block, metadata and the like publish nothing).
_CREATING_COMP = {None: "PutBlob", "blocklist": "PutBlockList"}


class BlobFrontEnd:
    def __init__(
        self,
        config: EventGridConfig,
        *,
        upstream_url: str,
        properties_client: BlobServiceClient,
        deliveries: Deliveries,
    ) -> None:
        self._config = config
        self._upstream = upstream_url.rstrip("/")
        self._properties = properties_client
        self._deliveries = deliveries
        self._session: aiohttp.ClientSession | None = None
        self.published = 0

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()
        await self._deliveries.close()
        await self._properties.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None, sock_read=300)
            )
        body = await request.read()
        headers = CIMultiDict(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
        )
        async with self._session.request(
            request.method,
            self._upstream + request.raw_path,
            headers=headers,
            data=body if body else None,
            allow_redirects=False,
            skip_auto_headers=("Content-Type", "User-Agent", "Accept", "Accept-Encoding"),
        ) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in upstream.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    response.headers.add(name, value)
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(256 * 1024):
                await response.write(chunk)
            await response.write_eof()
            if request.method == "PUT" and upstream.status == 201:
                await self._after_write(request, upstream)
        return response

    async def _after_write(self, request: web.Request, upstream: aiohttp.ClientResponse) -> None:
        comp = request.query.get("comp")
        if comp not in _CREATING_COMP or "restype" in request.query:
            return
        parts = unquote(request.path).lstrip("/").split("/", 2)
        if len(parts) < 3 or not parts[2]:
            return
        account, container, blob_name = parts
        subscriptions = [
            s for s in self._config.subscriptions if s.matches(BLOB_CREATED, container, blob_name)
        ]
        if not subscriptions:
            return
        api = "CopyBlob" if "x-ms-copy-source" in request.headers else _CREATING_COMP[comp]
        try:
            properties = await self._properties.get_blob_client(container, blob_name).get_blob_properties()
        except Exception:
            logger.warning(
                "Reading %s/%s after its write failed; no event", container, blob_name, exc_info=True
            )
            return
        event = blob_created_event(
            account=account,
            container=container,
            blob_name=blob_name,
            url=f"{request.scheme}://{request.host}{request.raw_path.split('?', 1)[0]}",
            etag=str(properties.etag),
            content_type=properties.content_settings.content_type,
            content_length=int(properties.size or 0),
            blob_type=str(properties.blob_type.value if properties.blob_type else "BlockBlob"),
            api=api,
            client_request_id=request.headers.get("x-ms-client-request-id"),
            request_id=upstream.headers.get("x-ms-request-id"),
        )
        self.published += 1
        for subscription in subscriptions:
            self._deliveries.send(subscription, event)
