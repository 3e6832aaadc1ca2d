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

COSMOS_CONTAINERS: tuple[CosmosContainer, ...] = (JOBS_CONTAINER,)


def blob_containers(settings: Settings) -> tuple[str, ...]:
    return (settings.images_container, settings.inputs_container)


def queues(settings: Settings) -> tuple[str, ...]:
    return (settings.jobs_queue, settings.jobs_poison_queue)
