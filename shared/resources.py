"""Every storage resource the code uses, named once.

The local bootstrap creates exactly these; the infrastructure templates must declare exactly these (a test
ties the two). Names that are settings are resolved from `Settings`.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.settings import Settings


@dataclass(frozen=True)
class CosmosContainer:
    name: str
    partition_key: str
    default_ttl: int | None = None


JOBS_CONTAINER = CosmosContainer(name="jobs", partition_key="/tenantId")
# Keyed by the key id a presented key carries, so authenticating is one point read (id = partition key).
API_KEYS_CONTAINER = CosmosContainer(name="api-keys", partition_key="/id")
# One counter per caller and fixed window; each document sets its own `ttl` (-1: TTL on, no default).
RATE_LIMITS_CONTAINER = CosmosContainer(name="rate-limits", partition_key="/id", default_ttl=-1)

# Idempotency-Key records expire after a day (Cosmos TTL; the code also checks `expiresAt`).
IDEMPOTENCY_CONTAINER = CosmosContainer(name="idempotency", partition_key="/tenantId", default_ttl=24 * 3600)

PRESETS_CONTAINER = CosmosContainer(name="presets", partition_key="/tenantId")

# One account per tenant and one hold per job; a settled hold sets its own `ttl` (-1: TTL on, no default).
CREDITS_CONTAINER = CosmosContainer(name="credits", partition_key="/tenantId", default_ttl=-1)

WEBHOOKS_CONTAINER = CosmosContainer(name="webhooks", partition_key="/tenantId")

# The provider-quota scheduler: one partition per `provider/model` (lanes, pace, waiting jobs, leases);
# waiters and leases set their own `ttl` (-1: TTL on, no default).
QUOTAS_CONTAINER = CosmosContainer(name="quotas", partition_key="/scope", default_ttl=-1)

COSMOS_CONTAINERS: tuple[CosmosContainer, ...] = (
    JOBS_CONTAINER,
    API_KEYS_CONTAINER,
    RATE_LIMITS_CONTAINER,
    IDEMPOTENCY_CONTAINER,
    PRESETS_CONTAINER,
    CREDITS_CONTAINER,
    WEBHOOKS_CONTAINER,
    QUOTAS_CONTAINER,
)


def blob_containers(settings: Settings) -> tuple[str, ...]:
    return (settings.images_container, settings.thumbnails_container, settings.inputs_container)


def queues(settings: Settings) -> tuple[str, ...]:
    return (
        settings.jobs_queue,
        settings.jobs_poison_queue,
        settings.webhooks_queue,
        settings.webhooks_poison_queue,
    )
