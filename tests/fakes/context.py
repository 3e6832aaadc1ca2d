"""An AppContext whose stores run on in-memory fakes and whose time is a FakeClock: the job core,
unit-tested without emulators and without waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from shared.app_context import AppContext
from shared.auth.keys import ApiKeyStore
from shared.auth.tokens import JwksCache
from shared.clock import use_clock
from shared.credits.store import CreditStore
from shared.health import HealthProbes
from shared.images.store import ImageStore
from shared.jobs.idempotency import IdempotencyStore
from shared.jobs.queue import JobQueue
from shared.jobs.repository import JobRepository
from shared.presets.store import PresetStore
from shared.providers.registry import ProviderRegistry
from shared.ratelimit import RateLimiter
from shared.scheduling.store import QuotaStore
from shared.settings import Settings
from shared.webhooks.queue import WebhookQueue
from shared.webhooks.secrets import WebhookSecretStore
from tests.fakes.clock import FakeClock
from tests.fakes.cosmos import FakeContainer
from tests.fakes.providers import ScriptedProviders
from tests.fakes.storage import FakeImageStore, FakeQueueClient

BASE_SETTINGS: dict[str, str] = {
    "COSMOS_ENDPOINT": "https://fake.documents.azure.com:443/",
    "GEMINI_API_KEY": "fake",
    "GEMINI_MODELS": "gemini-2.5-flash-image",
    "DEFAULT_PROVIDER": "gemini",
    "PROVIDER_MAX_ATTEMPTS": "3",
    "RETRY_BASE_SECONDS": "1",
    "RETRY_MAX_SECONDS": "5",
    "JOB_CLAIM_SECONDS": "60",
    "DEFAULT_CREDIT_BALANCE": "100",
    "WEBHOOK_DEV_HOSTS": "127.0.0.1",
}


@dataclass
class FakeWorld:
    """The context and every fake behind it, for tests to script and inspect."""

    ctx: AppContext
    jobs: FakeContainer
    credits: FakeContainer
    idempotency: FakeContainer
    job_queue: FakeQueueClient
    webhook_queue: FakeQueueClient
    images: FakeImageStore
    providers: ScriptedProviders
    quotas: FakeContainer
    clock: FakeClock

    @property
    def provider(self) -> Any:
        return self.providers.get("gemini")

    def job_document(self, tenant_id: str, job_id: str) -> dict[str, Any]:
        return next(d for d in self.jobs.documents() if d["id"] == job_id and d["tenantId"] == tenant_id)


def fake_world(**settings: str) -> FakeWorld:
    """A world whose FakeClock is the application's clock from now on (tests/unit/conftest.py puts the
    system clock back after each test)."""
    config = Settings(**{**BASE_SETTINGS, **settings})
    jobs, credits, idempotency = FakeContainer(), FakeContainer(), FakeContainer()
    job_queue, webhook_queue = FakeQueueClient(), FakeQueueClient("webhooks")
    images = FakeImageStore()
    providers = ScriptedProviders(config)
    quotas = FakeContainer(partition_key="scope")
    ctx = AppContext(
        settings=config,
        jobs=JobRepository(cast(Any, jobs)),
        job_queue=JobQueue(cast(Any, job_queue)),
        images=cast(ImageStore, images),
        providers=cast(ProviderRegistry, providers),
        api_keys=ApiKeyStore(cast(Any, FakeContainer())),
        rate_limiter=RateLimiter(cast(Any, FakeContainer(partition_key="id")), window_seconds=3600),
        jwks=JwksCache(config),
        health=cast(HealthProbes, None),
        idempotency=IdempotencyStore(cast(Any, idempotency)),
        presets=PresetStore(cast(Any, FakeContainer())),
        credits=CreditStore(cast(Any, credits), initial_balance=config.default_credit_balance),
        webhook_secrets=WebhookSecretStore(cast(Any, FakeContainer())),
        webhook_queue=WebhookQueue(cast(Any, webhook_queue)),
        quotas=QuotaStore(cast(Any, quotas), config),
    )
    clock = FakeClock()
    use_clock(clock)
    return FakeWorld(
        ctx, jobs, credits, idempotency, job_queue, webhook_queue, images, providers, quotas, clock
    )


CLAIM = timedelta(seconds=60)
