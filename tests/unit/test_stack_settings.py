"""A stack moved to free ports keeps settings that name the storage account's address pointing at it."""

from __future__ import annotations

import json

from devtools.stack.stack import ROOT, settings_on_free_ports


def test_fetch_dev_http_hosts_follows_the_blob_port() -> None:
    base = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    base["FETCH_DEV_HTTP_HOSTS"] = "127.0.0.1:10000,files.test:8080"

    values, endpoints = settings_on_free_ports(base)

    assert values["FETCH_DEV_HTTP_HOSTS"] == f"127.0.0.1:{endpoints.blob_port},files.test:8080"
    assert f"BlobEndpoint=http://127.0.0.1:{endpoints.blob_port}/" in values["AzureWebJobsStorage"]
