"""Azurite and the dev host serving the sample app, once per session."""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.storage.queue import QueueClient

from devtools.stack.processes import ManagedProcess, free_port, http_ok, port_open
from devtools.stack.stack import AZURITE_ACCOUNT_KEY, NODE_BIN, ROOT

SAMPLE_APP = Path(__file__).parent / "sample_app"
MASTER_KEY = "sample-master-key"
FUNCTION_KEY = "sample-function-key"
EVENTGRID_KEY = "sample-eventgrid-key"
# The sample host's message lease: short, so a test can outlast it (the host's is 10 minutes).
LEASE_SECONDS = 2


class SampleHost:
    def __init__(self, url: str, connection_string: str) -> None:
        self.url = url
        self.connection_string = connection_string

    def queue(self, name: str) -> QueueClient:
        client = QueueClient.from_connection_string(self.connection_string, name)
        try:
            client.create_queue()
        except Exception:  # noqa: BLE001 - already exists
            pass
        return client

    def send(self, queue: str, text: str) -> None:
        with self.queue(queue) as client:
            client.send_message(base64.b64encode(text.encode()).decode())

    def state(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/api/state").json())

    def status(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/admin/host/status", headers={"x-functions-key": MASTER_KEY})
        return dict(response.raise_for_status().json())

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.state()
            if predicate(current):
                return current
            time.sleep(0.2)
        raise AssertionError(f"condition not met within {timeout}s: {self.state()}")


@pytest.fixture(scope="session")
def sample_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleHost]:
    data = tmp_path_factory.mktemp("devhost")
    blob_port, queue_port, api_port = free_port(), free_port(), free_port()
    connection_string = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{blob_port}/devstoreaccount1;"
        f"QueueEndpoint=http://127.0.0.1:{queue_port}/devstoreaccount1;"
    )
    azurite = ManagedProcess(
        "azurite",
        [
            str(NODE_BIN / "azurite"),
            "--silent",
            "--skipApiVersionCheck",
            "--location",
            str(data / "azurite"),
            "--blobPort",
            str(blob_port),
            "--queuePort",
            str(queue_port),
            "--tablePort",
            str(free_port()),
        ],
        ready=lambda: port_open(blob_port) and port_open(queue_port),
        log_path=data / "azurite.log",
    )
    host = ManagedProcess(
        "devhost",
        [sys.executable, "-m", "devtools.devhost", "--app-dir", str(SAMPLE_APP), "--port", str(api_port)],
        ready=http_ok(f"http://127.0.0.1:{api_port}/admin/host/status", {"x-functions-key": MASTER_KEY}),
        env={
            "AzureWebJobsStorage": connection_string,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
            "DEVHOST_EVENTGRID_KEY": EVENTGRID_KEY,
            "DEVHOST_QUEUE_LEASE_SECONDS": str(LEASE_SECONDS),
            "PYTHONPATH": str(ROOT),
        },
        log_path=data / "devhost.log",
    )
    azurite.start()
    sample = SampleHost(f"http://127.0.0.1:{api_port}", connection_string)
    for name in ("records", "failing", "slow", "long"):
        sample.queue(name).close()
    try:
        host.start()
        yield sample
    finally:
        host.stop()
        azurite.stop()
