"""The playground in a real browser: Debian's Chromium, headless, driven by Playwright.

The screenshot is kept as a test artifact in `.devdata/test-artifacts/playground.png`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from devtools.stack.stack import ROOT, LocalStack
from tests.integration.conftest import DEV_KEY, unique_prompt

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".devdata" / "test-artifacts"
# Without the background-networking switches Chromium keeps trying to reach Google's services, which a
# closed network turns into long stalls.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    assert CHROMIUM.exists(), "make install installs Debian's chromium"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def _console_problems(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def _loaded_size(page: Page, selector: str, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    script = (
        "(s) => { const i = document.querySelector(s);"
        " return i && i.complete ? [i.naturalWidth, i.naturalHeight] : null; }"
    )
    while time.monotonic() < deadline:
        size = page.evaluate(script, selector)
        if size:
            return list(size)
        time.sleep(0.1)
    raise AssertionError(f"{selector} did not load within {timeout}s")


def test_a_prompt_typed_in_becomes_an_image_on_the_page(stack: LocalStack, browser: BrowserContext) -> None:
    page = browser.new_page()
    problems = _console_problems(page)
    prompt = unique_prompt("a lighthouse at dawn")

    page.goto(f"{stack.endpoints.api_url}/playground")
    page.fill("#api-key", DEV_KEY)
    page.click("#save-key")
    page.locator("#model option").first.wait_for(state="attached")
    page.fill("#prompt", prompt)
    page.select_option("#aspect-ratio", "16:9")
    page.click("#generate")
    image = page.wait_for_selector("#results img", timeout=60_000)
    assert image is not None
    # Loaded from the storage account's origin, which the page's Content-Security-Policy allows. (Polled
    # from here: wait_for_function evaluates strings in the page, which the policy forbids.)
    natural = _loaded_size(page, "#results img")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "playground.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"playground screenshot: {screenshot}")

    assert natural == [1344, 768]
    assert page.text_content("#job-status") == "succeeded"
    assert "1344×768 · image/png" in (page.text_content("#results .size") or "")
    assert "served by gemini/gemini-2.5-flash-image" in (page.text_content("#job-details") or "")
    assert page.evaluate("window.localStorage.getItem('imagegen.playground.apiKey')") == DEV_KEY

    # An output becomes a reference of the next job; the library shows the image.
    page.click("#results button:has-text('Use as reference')")
    assert "output " in (page.text_content("#references") or "")
    page.click("[data-tab=library]")
    page.fill("#library-search", prompt)
    page.click("#library-form button")
    page.wait_for_selector(f"#library .card:has-text('{prompt}')")
    page.click("[data-tab=gallery]")
    page.wait_for_selector("#gallery .card, #gallery p")
    assert problems == []
    assert screenshot.stat().st_size > 10_000


def test_the_committed_screenshot_exists() -> None:
    # docs/playground.png is a copy of the artifact above, shown in the README.
    assert (ROOT / "docs" / "playground.png").read_bytes().startswith(b"\x89PNG")
    assert shutil.which("chromium") or CHROMIUM.exists()
