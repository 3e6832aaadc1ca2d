"""The provider simulator's latency and its count of calls in flight, on an in-process server."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from devtools.simulator import app as simulator
from devtools.simulator.state import SimulatorState

GENERATE = "/v1beta/models/gemini-2.5-flash-image:generateContent"
HEADERS = {"x-goog-api-key": "sim-key"}
PNG = b"\x89PNG drawn"


def _image_call(prompt: str) -> dict[str, Any]:
    return {
        "contents": [{"parts": [{"text": prompt}]}],
        "generationConfig": {"responseModalities": ["IMAGE"]},
    }


@pytest.fixture
async def state() -> SimulatorState:
    return SimulatorState()


@pytest.fixture
async def client(state: SimulatorState) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(simulator.create_app(state), host="127.0.0.1")) as client:
        yield client


async def test_the_image_is_drawn_while_the_latency_passes(
    client: TestClient[Any, Any], state: SimulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[tuple[str, int, int]] = []
    started = threading.Event()

    def draw(prompt: str, width: int, height: int, **_: object) -> bytes:
        drawn.append((prompt, width, height))
        started.set()
        return PNG

    monkeypatch.setattr(simulator, "render", draw)
    state.latency_ms = 3_600_000  # the answer is an hour away
    call = asyncio.ensure_future(client.post(GENERATE, json=_image_call("a fox"), headers=HEADERS))
    try:
        assert await asyncio.to_thread(started.wait, 30)

        assert drawn == [("a fox", 1024, 1024)]
        assert (state.calls_in_flight, state.calls_answered) == (1, 0)  # still waiting out the latency
    finally:
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)


async def test_the_drawn_image_is_the_answer(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator, "render", lambda *args, **kwargs: PNG)

    response = await client.post(GENERATE, json=_image_call("a fox"), headers=HEADERS)

    parts = (await response.json())["candidates"][0]["content"]["parts"]
    assert response.status == 200
    assert base64.b64decode(parts[1]["inlineData"]["data"]) == PNG


async def test_an_unsupported_size_is_refused_and_nothing_is_drawn(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[tuple[object, ...]] = []

    def draw(*args: object, **kwargs: object) -> bytes:
        drawn.append(args)
        return PNG

    monkeypatch.setattr(simulator, "render", draw)
    body = _image_call("a fox")
    body["generationConfig"]["imageConfig"] = {"imageSize": "8K"}

    response = await client.post(GENERATE, json=body, headers=HEADERS)

    assert response.status == 400
    assert "unsupported image size" in (await response.json())["error"]["message"]
    assert drawn == []


async def test_stats_count_the_calls_in_flight_until_the_records_are_cleared(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    together = threading.Barrier(3, timeout=30)  # no call is answered before all three are in flight

    def draw(*args: object, **kwargs: object) -> bytes:
        together.wait()
        return PNG

    monkeypatch.setattr(simulator, "render", draw)

    responses = await asyncio.gather(
        *(client.post(GENERATE, json=_image_call(f"fox {index}"), headers=HEADERS) for index in range(3))
    )
    stats = await (await client.get("/_sim/stats")).json()
    await client.delete("/_sim/requests")
    cleared = await (await client.get("/_sim/stats")).json()

    assert [response.status for response in responses] == [200, 200, 200]
    assert (stats["inFlight"], stats["maxInFlight"], stats["answered"]) == (0, 3, 3)
    assert stats["callSeconds"] > 0
    assert cleared == {"inFlight": 0, "maxInFlight": 0, "answered": 0, "callSeconds": 0.0}
