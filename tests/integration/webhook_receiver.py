"""A webhook receiver in the test process: records deliveries per path and answers as told."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """An HTTP server in the test process that records deliveries per path and answers as told."""

    base_url: str = ""
    deliveries: dict[str, list[Delivery]] = field(default_factory=dict)
    answers: dict[str, list[int]] = field(default_factory=dict)

    def path(self, *answers: int) -> str:
        """A fresh path; it answers `answers` in turn, then 200 (or the last answer, repeated)."""
        name = f"/hook/{uuid.uuid4().hex}"
        self.answers[name] = list(answers)
        return name

    def url(self, path: str) -> str:
        return self.base_url + path

    def wait_for(self, path: str, count: int, timeout: float = 45) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries.get(path, [])) < count:
            assert time.monotonic() < deadline, f"{len(self.deliveries.get(path, []))} of {count} deliveries"
            time.sleep(0.1)
        return self.deliveries[path]

    async def handle(self, request: web.Request) -> web.Response:
        self.deliveries.setdefault(request.path, []).append(
            Delivery(dict(request.headers), await request.read())
        )
        answers = self.answers.get(request.path, [])
        status = answers.pop(0) if len(answers) > 1 else (answers[0] if answers else 200)
        return web.Response(status=status)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/{tail:.*}", state.handle)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    state.base_url = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield state
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.run_until_complete(runner.cleanup())
    loop.close()
