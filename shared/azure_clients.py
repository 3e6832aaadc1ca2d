"""Factories for the Azure SDK clients: async, built from settings, one credential per process.

The same code serves Azure (identity-based connections through `DefaultAzureCredential`) and local
development (connection strings and the emulator key): which one is chosen only by the settings present.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.net.proxy import reads_proxy_environment
from shared.settings import Settings

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.cosmos.aio import CosmosClient
    from azure.storage.blob.aio import BlobServiceClient
    from azure.storage.queue.aio import QueueClient


class MissingSettingError(RuntimeError):
    """A required setting is absent; the message names it."""


_credentials: dict[str | None, AsyncTokenCredential] = {}


def get_credential(settings: Settings) -> AsyncTokenCredential:
    """The process's one credential (managed identity in Azure, developer login elsewhere)."""
    client_id = settings.managed_identity_client_id
    if client_id not in _credentials:
        from azure.identity.aio import DefaultAzureCredential

        _credentials[client_id] = DefaultAzureCredential(managed_identity_client_id=client_id)
    return _credentials[client_id]


async def close_credential() -> None:
    """Close the process's credential if one was made (its token requests hold an HTTP session)."""
    while _credentials:
        _, credential = _credentials.popitem()
        await credential.close()


def _storage_uri(settings: Settings, service: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    if settings.storage_account_name:
        return f"https://{settings.storage_account_name}.{service}.core.windows.net"
    raise MissingSettingError(
        "Storage is not configured: set AzureWebJobsStorage (connection string) or "
        f"AzureWebJobsStorage__accountName / AzureWebJobsStorage__{service}ServiceUri (identity)."
    )


def _transport_options(settings: Settings) -> dict[str, Any]:
    return {} if reads_proxy_environment(settings) else {"use_env_settings": False}


def setup_blob_service(*, settings: Settings) -> BlobServiceClient:
    from azure.storage.blob.aio import BlobServiceClient

    if settings.storage_connection_string:
        return BlobServiceClient.from_connection_string(
            settings.storage_connection_string.get_secret_value(), **_transport_options(settings)
        )
    uri = _storage_uri(settings, "blob", settings.storage_blob_service_uri)
    return BlobServiceClient(uri, credential=get_credential(settings), **_transport_options(settings))


def setup_queue_client(*, settings: Settings, queue_name: str) -> QueueClient:
    """A queue client sending plain text, as host.json's `messageEncoding: none` expects."""
    from azure.storage.queue.aio import QueueClient

    if settings.storage_connection_string:
        return QueueClient.from_connection_string(
            settings.storage_connection_string.get_secret_value(),
            queue_name,
            **_transport_options(settings),
        )
    return QueueClient(
        _storage_uri(settings, "queue", settings.storage_queue_service_uri),
        queue_name,
        credential=get_credential(settings),
        **_transport_options(settings),
    )


def setup_cosmos_client(*, settings: Settings) -> CosmosClient:
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.cosmos.aio import CosmosClient

    credential: str | AsyncTokenCredential = (
        settings.cosmos_key.get_secret_value() if settings.cosmos_key else get_credential(settings)
    )
    return CosmosClient(
        settings.cosmos_endpoint,
        credential=credential,
        enable_endpoint_discovery=settings.cosmos_endpoint_discovery,
        # Cosmos DB does not hand client options to its transport: it takes one made with them.
        transport=AioHttpTransport(**_transport_options(settings)),
    )
