"""A counting reverse proxy: stands between the app and an emulator and counts the data-plane calls.

Each call is counted under a short name read from its method and path (Cosmos DB: the operation and the
container; Storage: the blob or queue operation), so a benchmark can say how many calls of each kind one
job costs, as Azure bills them (Cosmos DB request units and Storage transactions are per call).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", "host"}
_COSMOS_DOCS = re.compile(r"dbs/[^/]+/colls/(?P<container>[^/]+)/docs(?:/(?P<item>[^/]+))?/?$")


def cosmos_call(method: str, path: str, headers: dict[str, str]) -> str:
    match = _COSMOS_DOCS.search(path)
    if match is None:
        return f"cosmos {method} metadata"  # database account, containers, partition key ranges
    container = match["container"]
    if match["item"]:
        return f"cosmos {container} " + {"GET": "read", "PUT": "replace", "DELETE": "delete"}.get(
            method, method
        )
    if method == "POST":
        if headers.get("x-ms-documentdb-isquery", "").lower() == "true" or "query" in headers.get(
            "content-type", ""
        ):
            return f"cosmos {container} query"
        if headers.get("x-ms-documentdb-is-upsert", "").lower() == "true":
            return f"cosmos {container} upsert"
        return f"cosmos {container} create"
    return f"cosmos {container} {method}"


def storage_call(service: str, method: str, url: str) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    comp = (query.get("comp") or [""])[0]
    segments = [s for s in parts.path.split("/") if s][1:]  # without the account
    if service == "queue":
        if len(segments) >= 2 and segments[1] == "messages":
            if method == "GET":
                return "queue receive"
            if method == "POST":
                return "queue send"
            if method == "DELETE":
                return "queue delete message"
            if method == "PUT":
                return "queue update message"
        return f"queue {method} {comp or 'queue'}"
    kind = "blob" if len(segments) >= 2 else "container"
    if method == "PUT" and kind == "blob":
        return {"": "blob put", "block": "blob put block", "blocklist": "blob put block list"}.get(
            comp, f"blob put {comp}"
        )
    if method == "GET" and kind == "blob":
        return "blob get"
    if method == "HEAD":
        return f"{kind} properties"
    if method == "DELETE":
        return f"{kind} delete"
    return f"{kind} {method} {comp}".strip()


class CountingProxy:
    """Forwards every request to `upstream` and counts it by `name(method, url, headers)`."""

    def __init__(self, service: str, upstream: str) -> None:
        self.service = service
        self.upstream = upstream.rstrip("/")
        self.calls: Counter[str] = Counter()
        self.port = 0
        self._session: aiohttp.ClientSession | None = None

    def name(self, request: web.Request) -> str:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if self.service == "cosmos":
            return cosmos_call(request.method, request.path, headers)
        return storage_call(self.service, request.method, str(request.rel_url))

    async def forward(self, request: web.Request) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        self.calls[self.name(request)] += 1
        body = await request.read()
        # Headers and path exactly as sent (Storage signs them), nothing added by the client.
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP | {"content-length"}
        }
        async with self._session.request(
            request.method,
            self.upstream + request.raw_path,
            headers=headers,
            data=body if body else None,
            allow_redirects=False,
            skip_auto_headers=("Content-Type", "User-Agent", "Accept", "Accept-Encoding"),
        ) as upstream:
            payload = await upstream.read()
            reply = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
            reply.pop("Content-Length", None)
            return web.Response(status=upstream.status, body=payload, headers=reply)


class Proxies:
    """Proxies on free loopback ports, served from a thread of their own."""

    def __init__(self, proxies: list[CountingProxy]) -> None:
        self.proxies = proxies
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []

    def start(self) -> None:
        for proxy in self.proxies:
            app = web.Application(client_max_size=256 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", proxy.forward)
            runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            proxy.port = runner.addresses[0][1]
            self._runners.append(runner)
        threading.Thread(target=self._loop.run_forever, daemon=True).start()

    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for proxy in self.proxies:
            total.update(proxy.calls)
        return total

    def reset(self) -> None:
        for proxy in self.proxies:
            proxy.calls.clear()
