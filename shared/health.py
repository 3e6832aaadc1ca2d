"""Reachability of the app's dependencies, each probed cheaply and concurrently under a timeout, and
the provider settings that keep part of the service from working (the catalog's problems).

Storage and Cosmos DB answer a metadata read the app's own identity is allowed (container, queue and
Cosmos container properties). Providers are probed with a plain HTTP request to their endpoint through
aiohttp, never through their SDKs (the HTTP path must not import them) and without generating anything:
any answer below 500 means the endpoint is reachable.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import aiohttp

from shared.models.health import ConfigurationProblem, DependencyHealth, HealthReport
from shared.providers.catalog import ProviderCatalog, ProviderName, SettingProblem
from shared.settings import Settings

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy
    from azure.storage.blob.aio import BlobServiceClient
    from azure.storage.queue.aio import QueueClient

logger = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[object]]

GEMINI_DEFAULT_ENDPOINT = "https://generativelanguage.googleapis.com"


class ProbeFailedError(Exception):
    pass


async def _timed(name: str, probe: Probe, timeout: float) -> DependencyHealth:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
    except Exception as exc:
        latency = round((time.perf_counter() - started) * 1000)
        logger.warning("Health probe %s failed", name, exc_info=True)
        detail = "timed out" if isinstance(exc, TimeoutError) else (str(exc) or type(exc).__name__)
        return DependencyHealth(status="down", latency_ms=latency, detail=detail[:200])
    return DependencyHealth(status="up", latency_ms=round((time.perf_counter() - started) * 1000))


async def run_probes(
    probes: Mapping[str, Probe], *, timeout: float, problems: Sequence[SettingProblem] = ()
) -> HealthReport:
    """Every probe's result; degraded when one is down or a setting keeps a provider from serving."""
    names = list(probes)
    results = await asyncio.gather(*(_timed(name, probes[name], timeout) for name in names))
    dependencies = dict(zip(names, results, strict=True))
    healthy = all(result.status == "up" for result in results) and not problems
    return HealthReport(
        status="ok" if healthy else "degraded",
        dependencies=dependencies,
        configuration=[ConfigurationProblem(settings=list(p.settings), message=p.message) for p in problems],
    )


async def probe_http_endpoint(url: str, timeout: float) -> None:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.get(url, allow_redirects=False) as response,
    ):
        if response.status >= 500:
            raise ProbeFailedError(f"HTTP {response.status}")


def provider_endpoints(settings: Settings, catalog: ProviderCatalog) -> dict[str, str]:
    """The endpoint of every provider this deployment offers."""
    configured = catalog.configured()
    endpoints = {}
    if ProviderName.GEMINI.value in configured:
        endpoints[ProviderName.GEMINI.value] = settings.gemini_base_url or GEMINI_DEFAULT_ENDPOINT
    if ProviderName.AZURE_OPENAI.value in configured and settings.azure_openai_endpoint:
        endpoints[ProviderName.AZURE_OPENAI.value] = settings.azure_openai_endpoint
    return endpoints


class HealthProbes:
    def __init__(
        self,
        settings: Settings,
        *,
        catalog: ProviderCatalog,
        blob_service: BlobServiceClient,
        queue: QueueClient,
        cosmos_container: ContainerProxy,
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._blob_service = blob_service
        self._queue = queue
        self._cosmos_container = cosmos_container

    async def check(self) -> HealthReport:
        settings = self._settings
        timeout = settings.health_timeout_seconds
        container = self._blob_service.get_container_client(settings.images_container)
        probes: dict[str, Probe] = {
            "blobStorage": container.get_container_properties,
            "queueStorage": self._queue.get_queue_properties,
            "cosmosDb": self._cosmos_container.read,
        }
        for name, url in provider_endpoints(settings, self._catalog).items():
            probes[f"provider:{name}"] = functools.partial(probe_http_endpoint, url, timeout)
        return await run_probes(probes, timeout=timeout, problems=self._catalog.problems)
