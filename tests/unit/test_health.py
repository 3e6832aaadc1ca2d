"""Health aggregation: every probe's status and latency; one failure or timeout, or a provider setting
problem, makes the whole degraded."""

from __future__ import annotations

import asyncio

from shared.health import provider_endpoints, run_probes
from shared.providers.catalog import ProviderCatalog
from shared.settings import Settings


async def _up() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("connection refused")


async def _hangs() -> None:
    await asyncio.sleep(10)


async def test_all_up_is_ok() -> None:
    report = await run_probes({"a": _up, "b": _up}, timeout=1)

    assert report.status == "ok"
    assert {name: d.status for name, d in report.dependencies.items()} == {"a": "up", "b": "up"}


async def test_a_failed_or_slow_probe_is_down_with_a_reason_and_the_report_degraded() -> None:
    report = await run_probes({"ok": _up, "refused": _refused, "slow": _hangs}, timeout=0.2)

    assert report.status == "degraded"
    assert report.dependencies["ok"].status == "up"
    assert report.dependencies["refused"].status == "down"
    assert report.dependencies["refused"].detail == "connection refused"
    assert report.dependencies["slow"].status == "down"
    assert report.dependencies["slow"].detail == "timed out"
    assert report.dependencies["slow"].latency_ms >= 200


def test_only_configured_providers_are_probed() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x", GEMINI_API_KEY="k")

    assert provider_endpoints(settings, ProviderCatalog(settings)) == {
        "gemini": "https://generativelanguage.googleapis.com"
    }


async def test_a_default_provider_that_is_not_configured_degrades_health_and_names_the_setting() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x", DEFAULT_PROVIDER="gemini")

    report = await run_probes({"a": _up}, timeout=1, problems=ProviderCatalog(settings).problems)

    assert report.status == "degraded"
    assert report.dependencies["a"].status == "up"
    (problem,) = report.configuration
    assert problem.settings == ["DEFAULT_PROVIDER", "GEMINI_API_KEY"]
    assert "GEMINI_API_KEY" in problem.message
