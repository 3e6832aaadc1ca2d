"""Queue clients for trigger connections, resolved from app settings as the host resolves them."""

from __future__ import annotations

import os
import secrets

from azure.storage.queue.aio import QueueClient


def queue_client_for(connection: str, queue_name: str) -> QueueClient:
    """`connection` names a setting holding a connection string, or the prefix of identity-based settings
    (`<connection>__queueServiceUri` or `<connection>__accountName`). The client sends and receives raw
    message text: encoding is the listener's business, as it is the host's."""
    connection = connection or "AzureWebJobsStorage"
    # As the app's own clients (shared/net/proxy.py): the environment is read for a proxy only when one is
    # set, since trusting it costs a ~/.netrc lookup on every poll and delete.
    use_env_settings = _proxy_configured()
    connection_string = os.environ.get(connection)
    if connection_string:
        return QueueClient.from_connection_string(
            connection_string, queue_name, use_env_settings=use_env_settings
        )
    service_uri = os.environ.get(f"{connection}__queueServiceUri")
    account = os.environ.get(f"{connection}__accountName")
    if not service_uri and account:
        service_uri = f"https://{account}.queue.core.windows.net"
    if not service_uri:
        raise KeyError(f"connection {connection!r}: no connection string and no identity-based settings")
    from azure.identity.aio import DefaultAzureCredential

    return QueueClient(
        service_uri, queue_name, credential=DefaultAzureCredential(), use_env_settings=use_env_settings
    )


def _proxy_configured() -> bool:
    return any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"))


def keep_host_calls_untraced() -> None:
    """Run the host's own storage calls (polling, leases, poison moves) under a span that is not sampled.

    The app runs in this process and its telemetry may turn on azure-core's tracing, which is process-wide:
    without this, every poll of every queue would be recorded as a span of its own. The real host is
    another process; the app's spans never descend from this context, since each invocation runs in the
    worker's own context (`Worker.invoke`)."""
    from opentelemetry import context, trace

    unsampled = trace.SpanContext(
        trace_id=int.from_bytes(secrets.token_bytes(16)) or 1,
        span_id=int.from_bytes(secrets.token_bytes(8)) or 1,
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT),
    )
    context.attach(trace.set_span_in_context(trace.NonRecordingSpan(unsampled)))
