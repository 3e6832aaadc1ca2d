"""The playground route: its files, security headers, and the setting that switches it off."""

from __future__ import annotations

import re
from collections.abc import Iterator

import azure.functions as func
import pytest

from shared.routes import playground
from shared.settings import get_settings


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _get(route: str, **params: str) -> func.HttpRequest:
    return func.HttpRequest("GET", f"http://127.0.0.1:7071/api/{route}", body=b"", route_params=params)


async def test_switched_off_the_page_and_its_files_are_404(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("COSMOS_ENDPOINT", "http://127.0.0.1:8081")
    settings_env.setenv("PLAYGROUND_ENABLED", "false")

    page = await playground.playground_page(_get("playground"))
    script = await playground.playground_asset(_get("playground/app.js", asset="app.js"))

    assert page.status_code == script.status_code == 404
    assert b"PLAYGROUND_ENABLED" in page.get_body()


async def test_an_unknown_file_is_404_before_anything_is_read() -> None:
    response = await playground.playground_asset(_get("playground/..%2Fsettings.py", asset="../settings.py"))

    assert response.status_code == 404


def test_the_policy_allows_only_this_origin_and_the_image_origins() -> None:
    policy = playground.content_security_policy(["http://127.0.0.1:10000"])

    assert "script-src 'self';" in policy and "connect-src 'self';" in policy
    assert "img-src 'self' data: blob: http://127.0.0.1:10000;" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_the_page_has_no_inline_script_or_style_and_names_only_its_own_files() -> None:
    html = (playground.STATIC_DIR / playground.PAGE).read_text()

    assert re.findall(r"<script[^>]*>(.+?)</script>", html, re.DOTALL) == []
    assert " style=" not in html and "<style" not in html
    assert set(re.findall(r'(?:src|href)="playground/([^"]+)"', html)) == set(playground.ASSETS)
    assert "http" not in " ".join(re.findall(r'(?:src|href)="([^"]+)"', html))
