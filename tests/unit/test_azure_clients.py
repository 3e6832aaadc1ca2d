"""The Azure SDK clients trust the environment's proxy settings only when a proxy is configured."""

from __future__ import annotations

from typing import Any

import pytest

from shared.azure_clients import setup_blob_service, setup_cosmos_client, setup_queue_client
from shared.settings import Settings

STORAGE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
    "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:2/devstoreaccount1;"
)


def _transports(settings: Settings) -> list[Any]:
    cosmos = setup_cosmos_client(settings=settings)
    return [
        setup_blob_service(settings=settings)._pipeline._transport,
        setup_queue_client(settings=settings, queue_name="jobs")._pipeline._transport,
        cosmos.client_connection.pipeline_client._pipeline._transport,
    ]


@pytest.mark.parametrize(("proxy", "trusted"), [(None, False), ("http://proxy.internal:3128", True)])
def test_clients_read_proxy_settings_only_when_a_proxy_is_configured(
    monkeypatch: pytest.MonkeyPatch, proxy: str | None, trusted: bool
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
    settings = Settings(
        AzureWebJobsStorage=STORAGE,
        COSMOS_ENDPOINT="http://127.0.0.1:3",
        COSMOS_KEY="a2V5",
    )

    assert [transport._use_env_settings for transport in _transports(settings)] == [trusted] * 3
