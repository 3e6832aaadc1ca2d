"""Queue clients for trigger connections, resolved from app settings as the host resolves them."""

from __future__ import annotations

import os

from azure.storage.queue.aio import QueueClient


def queue_client_for(connection: str, queue_name: str) -> QueueClient:
    """`connection` names a setting holding a connection string, or the prefix of identity-based settings
    (`<connection>__queueServiceUri` or `<connection>__accountName`). The client sends and receives raw
    message text: encoding is the listener's business, as it is the host's."""
    connection = connection or "AzureWebJobsStorage"
    connection_string = os.environ.get(connection)
    if connection_string:
        return QueueClient.from_connection_string(connection_string, queue_name)
    service_uri = os.environ.get(f"{connection}__queueServiceUri")
    account = os.environ.get(f"{connection}__accountName")
    if not service_uri and account:
        service_uri = f"https://{account}.queue.core.windows.net"
    if not service_uri:
        raise KeyError(f"connection {connection!r}: no connection string and no identity-based settings")
    from azure.identity.aio import DefaultAzureCredential

    return QueueClient(service_uri, queue_name, credential=DefaultAzureCredential())
