"""The process's long-lived objects: settings, SDK clients and the stores built on them.

Built once, lazily, on the first invocation and reused by every function after it; the async SDK clients
bind to the worker's one event loop when they first connect. The Python worker has no shutdown hook, so
the context closes its clients when that loop ends: a task waits on the loop for the whole process and,
when the loop's shutdown cancels it (what `asyncio.run` does to pending tasks when the worker's main
coroutine returns), closes every client before the loop closes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shared.auth.keys import ApiKeyStore
from shared.auth.tokens import JwksCache
from shared.azure_clients import close_credential, setup_blob_service, setup_cosmos_client, setup_queue_client
from shared.credits.store import CreditStore
from shared.health import HealthProbes
from shared.images.store import ImageStore
from shared.jobs.idempotency import IdempotencyStore
from shared.jobs.queue import JobQueue
from shared.jobs.repository import JobRepository
from shared.presets.store import PresetStore
from shared.providers.registry import ProviderRegistry
from shared.ratelimit import RateLimiter
from shared.resources import (
    API_KEYS_CONTAINER,
    CREDITS_CONTAINER,
    IDEMPOTENCY_CONTAINER,
    JOBS_CONTAINER,
    PRESETS_CONTAINER,
    QUOTAS_CONTAINER,
    RATE_LIMITS_CONTAINER,
    WEBHOOKS_CONTAINER,
)
from shared.scheduling.store import QuotaStore
from shared.settings import Settings, get_settings
from shared.telemetry.setup import configure_telemetry
from shared.webhooks.queue import WebhookQueue
from shared.webhooks.secrets import WebhookSecretStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    jobs: JobRepository
    job_queue: JobQueue
    images: ImageStore
    providers: ProviderRegistry
    api_keys: ApiKeyStore
    rate_limiter: RateLimiter
    jwks: JwksCache
    health: HealthProbes
    idempotency: IdempotencyStore
    presets: PresetStore
    credits: CreditStore
    webhook_secrets: WebhookSecretStore
    webhook_queue: WebhookQueue
    quotas: QuotaStore
    # The SDK clients the stores above share, closed together by aclose().
    clients: tuple[Any, ...] = field(default=(), repr=False)

    async def aclose(self) -> None:
        """Close every SDK client the context opened, the providers' included."""
        results = await asyncio.gather(
            *(client.close() for client in self.clients), self.providers.aclose(), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                logger.warning("Closing a client failed: %s", result)


_context: AppContext | None = None
_closer: asyncio.Task[None] | None = None


def build_context(settings: Settings) -> AppContext:
    # Before any client exists: azure-core's tracing plugin then traces every Azure SDK call.
    configure_telemetry(settings)
    cosmos = setup_cosmos_client(settings=settings)
    database = cosmos.get_database_client(settings.cosmos_database)
    jobs_container = database.get_container_client(JOBS_CONTAINER.name)
    queue_client = setup_queue_client(settings=settings, queue_name=settings.jobs_queue)
    webhook_queue_client = setup_queue_client(settings=settings, queue_name=settings.webhooks_queue)
    blob_service = setup_blob_service(settings=settings)
    providers = ProviderRegistry(settings)
    # Once per process: an operator reading the start-up log learns which setting to fix.
    for problem in providers.catalog.problems:
        logger.warning("Provider settings: %s", problem.message)
    for message in settings.retired_setting_warnings():
        logger.warning("Settings: %s", message)
    return AppContext(
        settings=settings,
        jobs=JobRepository(jobs_container),
        job_queue=JobQueue(queue_client),
        images=ImageStore(
            blob_service,
            url_ttl=timedelta(minutes=settings.image_url_ttl_minutes),
            public_container=settings.images_container,
            public_base_url=settings.images_public_base_url,
            container_public=settings.images_container_public,
        ),
        providers=providers,
        api_keys=ApiKeyStore(database.get_container_client(API_KEYS_CONTAINER.name)),
        rate_limiter=RateLimiter(
            database.get_container_client(RATE_LIMITS_CONTAINER.name),
            window_seconds=settings.rate_limit_window_seconds,
        ),
        jwks=JwksCache(settings),
        health=HealthProbes(
            settings,
            catalog=providers.catalog,
            blob_service=blob_service,
            queue=queue_client,
            cosmos_container=jobs_container,
        ),
        idempotency=IdempotencyStore(database.get_container_client(IDEMPOTENCY_CONTAINER.name)),
        presets=PresetStore(database.get_container_client(PRESETS_CONTAINER.name)),
        credits=CreditStore(
            database.get_container_client(CREDITS_CONTAINER.name),
            initial_balance=settings.default_credit_balance,
        ),
        webhook_secrets=WebhookSecretStore(database.get_container_client(WEBHOOKS_CONTAINER.name)),
        webhook_queue=WebhookQueue(webhook_queue_client),
        quotas=QuotaStore(database.get_container_client(QUOTAS_CONTAINER.name), settings),
        clients=(cosmos, queue_client, webhook_queue_client, blob_service),
    )


def get_context() -> AppContext:
    # Building is synchronous (the SDK clients open connections on first use), so no two callers race.
    global _context, _closer
    if _context is None:
        _context = build_context(get_settings())
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # built on a sync function's thread: the clients bind to the loop on first use
        if loop is not None:
            _closer = loop.create_task(_close_when_the_loop_ends(_context), name="app-context-closer")
    return _context


async def _close_when_the_loop_ends(context: AppContext) -> None:
    global _context
    try:
        await asyncio.Event().wait()
    finally:
        if _context is context:
            _context = None
        await context.aclose()
        await close_credential()
