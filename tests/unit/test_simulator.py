"""The provider simulator's latency (fixed or spread) and its count of calls in flight, on an in-process
server."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
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


async def _timed_calls(client: TestClient[Any, Any], count: int) -> list[float]:
    """`count` calls at once; the seconds each took, as its caller saw them."""

    async def call(index: int) -> float:
        started = time.monotonic()
        response = await client.post(GENERATE, json=_image_call(f"fox {index}"), headers=HEADERS)
        assert response.status == 200
        await response.read()
        return time.monotonic() - started

    return list(await asyncio.gather(*(call(index) for index in range(count))))


async def _recorded_latencies(client: TestClient[Any, Any]) -> list[float]:
    return [entry["latencyMs"] for entry in await (await client.get("/_sim/requests")).json()]


async def test_a_latency_spread_draws_each_calls_latency_within_it_and_a_seed_repeats_them(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator, "render", lambda *args, **kwargs: PNG)
    configured = await (
        await client.post("/_sim/config", json={"latencyMs": 200, "latencySpreadMs": 150, "seed": 7})
    ).json()

    durations = await _timed_calls(client, 8)
    latencies = await _recorded_latencies(client)
    stats = await (await client.get("/_sim/stats")).json()
    await client.delete("/_sim/requests")
    await client.post("/_sim/config", json={"seed": 7})
    await _timed_calls(client, 8)
    repeated = await _recorded_latencies(client)
    shown = await (await client.get("/_sim/config")).json()

    assert (configured["latencyMs"], configured["latencySpreadMs"], configured["seed"]) == (200, 150, 7)
    assert (shown["latencyMs"], shown["latencySpreadMs"], shown["seed"]) == (200, 150, 7)
    assert all(50 <= latency <= 350 for latency in latencies)
    assert len(set(latencies)) == 8  # drawn, not one value
    assert sorted(repeated) == sorted(latencies)
    # Each call took at least its drawn latency (sleeps may wake a clock tick early), and the stats count it.
    assert min(durations) >= min(latencies) / 1000 - 0.005
    assert max(durations) >= max(latencies) / 1000 - 0.005
    assert stats["answered"] == 8
    assert stats["callSeconds"] >= sum(latencies) / 1000 - 0.04


async def test_a_spread_latency_is_never_below_zero(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator, "render", lambda *args, **kwargs: PNG)
    await client.post("/_sim/config", json={"latencyMs": 10, "latencySpreadMs": 30, "seed": 3})

    await _timed_calls(client, 12)
    latencies = await _recorded_latencies(client)

    assert min(latencies) == 0  # a third of the range is below zero: with this seed some calls land there
    assert max(latencies) <= 40


async def test_without_a_spread_every_call_waits_the_latency(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator, "render", lambda *args, **kwargs: PNG)
    shown = await (await client.post("/_sim/config", json={"latencyMs": 50})).json()

    durations = await _timed_calls(client, 3)

    assert shown["latencySpreadMs"] == 0
    assert await _recorded_latencies(client) == [50, 50, 50]
    assert min(durations) >= 0.045


async def test_a_negative_spread_is_refused(client: TestClient[Any, Any]) -> None:
    response = await client.post("/_sim/config", json={"latencyMs": 100, "latencySpreadMs": -5})
    shown = await (await client.get("/_sim/config")).json()

    assert response.status == 400
    assert "latencySpreadMs" in (await response.json())["error"]
    assert (shown["latencyMs"], shown["latencySpreadMs"]) == (0, 0)
