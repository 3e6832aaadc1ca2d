"""The Gemini client's HTTP session: google-genai's own settings, reading the proxy settings only when a
proxy is configured, and closed with the provider."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shared.providers.catalog import ProviderCatalog
from shared.providers.gemini import GeminiProvider, create_provider
from shared.settings import Settings

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


class Recorder:
    """A loopback HTTP server answering every request with one Gemini text answer, keeping the URL each
    request asked for."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self.server = TestServer(app, host="127.0.0.1")

    async def _answer(self, request: web.Request) -> web.Response:
        self.targets.append(str(request.url))
        return web.json_response(
            {"candidates": [{"content": {"role": "model", "parts": [{"text": "a red fox"}]}}]}
        )

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    server = Recorder()
    await server.server.start_server()
    yield server
    await server.server.close()


def _settings(monkeypatch: pytest.MonkeyPatch, *, proxy: str | None, base_url: str) -> Settings:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
    return Settings(
        COSMOS_ENDPOINT="http://127.0.0.1:2",
        GEMINI_API_KEY="key",
        GEMINI_BASE_URL=base_url,
        GEMINI_TEXT_MODEL="gemini-text",
    )


def _session_in_use(provider: GeminiProvider) -> aiohttp.ClientSession:
    session = provider._client.aio._api_client._aiohttp_session
    assert isinstance(session, aiohttp.ClientSession)
    return session


@pytest.mark.parametrize(("proxy", "trusted"), [(None, False), ("http://proxy.internal:3128", True)])
async def test_the_session_reads_proxy_settings_only_when_a_proxy_is_configured(
    monkeypatch: pytest.MonkeyPatch, proxy: str | None, trusted: bool
) -> None:
    settings = _settings(monkeypatch, proxy=proxy, base_url="http://127.0.0.1:1")
    provider = create_provider(settings, ProviderCatalog(settings))
    session = _session_in_use(provider)

    assert session.trust_env is trusted
    assert session.connector is not None and session.connector.limit == 0
    assert session._read_bufsize == 2**22
    await provider.aclose()
    assert session.closed


async def test_without_a_proxy_a_call_goes_straight_to_gemini(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    settings = _settings(monkeypatch, proxy=None, base_url=recorder.url)
    provider = create_provider(settings, ProviderCatalog(settings))
    try:
        assert await provider.complete_text("Name it.", "a fox") == "a red fox"
    finally:
        await provider.aclose()

    assert recorder.targets == [f"{recorder.url}/v1beta/models/gemini-text:generateContent"]


async def test_with_a_proxy_configured_a_call_goes_through_it(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    # Only the proxy can answer: the configured Gemini host does not resolve.
    settings = _settings(monkeypatch, proxy=recorder.url, base_url="http://gemini.invalid")
    provider = create_provider(settings, ProviderCatalog(settings))
    try:
        assert await provider.complete_text("Name it.", "a fox") == "a red fox"
    finally:
        await provider.aclose()

    assert recorder.targets == ["http://gemini.invalid/v1beta/models/gemini-text:generateContent"]
