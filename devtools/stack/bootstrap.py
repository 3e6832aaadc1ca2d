"""Creating the storage resources the app uses, as the Bicep templates do in Azure.

The app never creates containers itself (with data-plane RBAC in Azure it cannot); locally, this does.
"""

from __future__ import annotations

from azure.core.exceptions import ResourceExistsError
from azure.cosmos import CosmosClient, PartitionKey
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from shared.resources import COSMOS_CONTAINERS, blob_containers, queues
from shared.settings import Settings


def bootstrap(settings: Settings) -> None:
    assert settings.storage_connection_string is not None, "the local stack uses a connection string"
    connection_string = settings.storage_connection_string.get_secret_value()
    blobs = BlobServiceClient.from_connection_string(connection_string)
    for container in blob_containers(settings):
        try:
            blobs.create_container(container)
        except ResourceExistsError:
            pass
    queue_service = QueueServiceClient.from_connection_string(connection_string)
    for queue in queues(settings):
        try:
            queue_service.create_queue(queue)
        except ResourceExistsError:
            pass
    key = settings.cosmos_key.get_secret_value() if settings.cosmos_key else None
    assert key is not None, "the local stack uses the emulator key"
    with CosmosClient(
        settings.cosmos_endpoint, credential=key, enable_endpoint_discovery=settings.cosmos_endpoint_discovery
    ) as cosmos:
        database = cosmos.create_database_if_not_exists(settings.cosmos_database)
        for spec in COSMOS_CONTAINERS:
            database.create_container_if_not_exists(
                spec.name, partition_key=PartitionKey(spec.partition_key), default_ttl=spec.default_ttl
            )
