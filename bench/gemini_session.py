"""The client's CPU per Gemini call: google-genai's own HTTP session against the one the provider gives it.

`python -m bench.gemini_session [--calls 1000] [--rounds 4]` starts the provider simulator on a free port
and makes `--calls` small text calls, 8 at a time, through `GeminiProvider.complete_text`, alternating
two clients for `--rounds` rounds: genai's own aiohttp session (made with `trust_env=True`, so every call
looks up the proxy variables and `~/.netrc`) and the provider's (`shared.providers.gemini`: the
environment is read only with a proxy configured). It prints this process's CPU per call for each round
and the medians. The calls are small so that the client's per-call work, not the answer's size, is
measured.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from google import genai
from google.genai import types

from devtools.stack.processes import ManagedProcess, free_port, http_ok
from shared.providers.catalog import ProviderCatalog
from shared.providers.gemini import GeminiProvider, create_provider
from shared.settings import Settings

IN_FLIGHT = 8
TEXT_MODEL = "gemini-text"


class _GenaisOwnSession(GeminiProvider):
    """The provider as it was: genai makes (and closes) its own session."""

    def __init__(self, settings: Settings) -> None:
        assert settings.gemini_api_key is not None
        options = types.HttpOptions(base_url=settings.gemini_base_url, timeout=60_000)
        client = genai.Client(api_key=settings.gemini_api_key.get_secret_value(), http_options=options)
        self._client, self._text_model = client, TEXT_MODEL

    async def aclose(self) -> None:
        await self._client.aio.aclose()


async def _calls(provider: GeminiProvider, count: int) -> None:
    limit = asyncio.Semaphore(IN_FLIGHT)

    async def one() -> None:
        async with limit:
            await provider.complete_text("Name it in three words.", "a fox in the snow")

    await asyncio.gather(*(one() for _ in range(count)))


async def _cpu_ms_per_call(make: Callable[[], GeminiProvider], count: int) -> float:
    provider = make()  # on the running loop, as the worker makes it
    try:
        await _calls(provider, 20)  # connections, first-use imports
        started = time.process_time()
        await _calls(provider, count)
        return (time.process_time() - started) / count * 1000
    finally:
        await provider.aclose()


async def _measure(settings: Settings, calls: int, rounds: int) -> dict[str, list[float]]:
    clients: dict[str, Callable[[], GeminiProvider]] = {
        "genai's own session": lambda: _GenaisOwnSession(settings),
        "the provider's session": lambda: create_provider(settings, ProviderCatalog(settings)),
    }
    results: dict[str, list[float]] = {name: [] for name in clients}
    for round_number in range(1, rounds + 1):
        for name, make in clients.items():
            results[name].append(await _cpu_ms_per_call(make, calls))
            print(f"round {round_number}, {name}: {results[name][-1]:.2f} ms of CPU per call", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    simulator = ManagedProcess(
        "simulator",
        [sys.executable, "-m", "devtools.simulator", "--port", str(port)],
        ready=http_ok(f"{url}/_sim/health"),
        log_path=Path(tempfile.mkdtemp()) / "simulator.log",
    )
    simulator.start()
    try:
        settings = Settings(
            COSMOS_ENDPOINT="http://127.0.0.1:1",
            GEMINI_API_KEY="simulator-key",
            GEMINI_BASE_URL=url,
            GEMINI_TEXT_MODEL=TEXT_MODEL,
        )
        results = asyncio.run(_measure(settings, args.calls, args.rounds))
    finally:
        simulator.stop()
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, median in medians.items():
        print(f"{name}: median {median:.2f} ms of CPU per call ({args.calls} calls, {IN_FLIGHT} at a time)")
    own, provider = medians.values()
    print(f"the provider's session: {own - provider:.2f} ms less per call, {provider / own:.2f}x")


if __name__ == "__main__":
    main()
