"""One local stack per test session (Azurite, Cosmos DB emulator, simulator, dev host) on free ports."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy, CosmosClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devtools.oidc import Issuer
from devtools.stack.stack import ROOT, LocalStack, settings_on_free_ports
from tests.integration.contract import Contract
from tests.integration.webhook_receiver import receiver  # noqa: F401 - a fixture for every module

DEV_KEY = "local-dev-key"
ADMIN_KEY = "test-admin-key"

QueueFactory = Callable[[str], QueueClient]

# Shorter timings than production so failure paths finish in seconds; everything else is the example config.
TEST_SETTINGS = {
    "PROVIDER_MAX_ATTEMPTS": "3",
    # A run's claim lapses (and a killed run's job resumes) after 20 s instead of 2 minutes.
    "JOB_CLAIM_SECONDS": "20",
    "RETRY_BASE_SECONDS": "1",
    "RETRY_MAX_SECONDS": "5",
    "SYNC_POLL_INTERVAL_SECONDS": "0.2",
    # Every test submits as the one dev tenant; the credit tests set its balance themselves.
    "DEFAULT_CREDIT_BALANCE": "1000000",
    # The test's webhook receiver listens on loopback; `localhost` stays refused (abuse tests use it).
    "WEBHOOK_DEV_HOSTS": "127.0.0.1",
    "WEBHOOK_MAX_ATTEMPTS": "3",
    "WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WEBHOOK_RETRY_MAX_SECONDS": "2",
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.500",
    "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
    "AzureFunctionsJobHost__extensions__queues__maxDequeueCount": "3",
    "ADMIN_API_KEY": ADMIN_KEY,
    "API_KEY_HASH_SECRET": "test-hash-secret",
    "TRUST_APP_SERVICE_AUTH": "true",
    # A hung provider call gives up quickly; one Gemini model falls back to Azure OpenAI.
    "PROVIDER_TIMEOUT_SECONDS": "10",
    "GEMINI_MODELS": "gemini-2.5-flash-image,gemini-3-pro-image-preview,gemini-3.1-flash-image-preview,"
    "gemini-2.0-flash-preview-image-generation",
    "PROVIDER_FALLBACKS": "gemini/gemini-2.0-flash-preview-image-generation=azure-openai/gpt-image-2",
    "AZURE_OPENAI_CHAT_DEPLOYMENT": "gpt-4o-mini",
    "FETCH_ALLOWED_HOSTS": "images.example.com,assets.example.org",
    # Small caps so the size checks are exercised with small bodies.
    "REFERENCE_MAX_BYTES": "2000000",
    "REFERENCE_TOTAL_MAX_BYTES": "3000000",
    # The compat families' synchronous waits. Seed 003's (120 s in production) is longer than any test's
    # generation, shorter than a provider hanging through all its attempts (3 x PROVIDER_TIMEOUT_SECONDS),
    # so its 504 is testable; seed 000's is below its 60 s default, so its timeout test (a slow simulator)
    # ends sooner; seed 002's is short enough for a test to outlast it (with a slow provider).
    "COMPAT_WAIT_SECONDS": "seed003=25,seed000=20,seed002=15",
    # The metrics file gets its deltas every second (10 s locally), so a test reads them back soon.
    "OTEL_METRIC_EXPORT_INTERVAL": "1000",
}


@pytest.fixture(scope="session")
def oidc_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issuer]:
    """The development OIDC issuer (`make dev`'s), in process so tests can count its JWKS requests; its
    directory is where `python -m devtools.token --dir` (or DEV_OIDC_DIR) finds its key."""
    issuer = Issuer(directory=tmp_path_factory.mktemp("oidc"))
    issuer.start()
    try:
        yield issuer
    finally:
        issuer.stop()


@contextmanager
def running_stack(base: dict[str, str], data_dir: Path) -> Iterator[LocalStack]:
    """A whole stack with the `base` settings moved to free ports; the dev host runs no timers (tests
    fire them through the admin API)."""
    values, endpoints = settings_on_free_ports(base)
    local = LocalStack(
        values=values,
        endpoints=endpoints,
        data_dir=data_dir,
        log_dir=data_dir / "logs",
        devhost_args=["--no-timers"],
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, oidc_issuer: Issuer) -> Iterator[LocalStack]:
    example = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    with running_stack(
        {**example, **TEST_SETTINGS, **oidc_issuer.settings}, tmp_path_factory.mktemp("stack")
    ) as local:
        yield local


@pytest.fixture(scope="session")
def contract(stack: LocalStack) -> Contract:
    """The served OpenAPI document; every client below checks each answer against it."""
    response = httpx.get(f"{stack.endpoints.api_url}/openapi.json", timeout=30)
    response.raise_for_status()
    return Contract(response.json())


def api_client(stack: LocalStack, contract: Contract, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=stack.endpoints.api_url,
        headers=headers,
        timeout=30,
        event_hooks={"response": [contract.check]},
    )


@pytest.fixture(scope="session")
def api(stack: LocalStack, contract: Contract) -> Iterator[httpx.Client]:
    with api_client(stack, contract, {"X-API-Key": DEV_KEY}) as client:
        yield client


@pytest.fixture(scope="session")
def anonymous(stack: LocalStack, contract: Contract) -> Iterator[httpx.Client]:
    with api_client(stack, contract) as client:
        yield client


@pytest.fixture(scope="session")
def admin(stack: LocalStack, contract: Contract) -> Iterator[httpx.Client]:
    with api_client(stack, contract, {"X-Admin-Key": ADMIN_KEY}) as client:
        yield client


def create_key(admin: httpx.Client, tenant_id: str, **options: Any) -> dict[str, Any]:
    """A new API key of `tenant_id` through the admin API; the answer includes the plain `key`."""
    response = admin.post("/v1/admin/api-keys", json={"tenantId": tenant_id, **options})
    assert response.status_code == 201, response.text
    return dict(response.json())


def unique_tenant(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


class Simulator:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def fault(
        self,
        kind: str,
        *,
        count: int = 1,
        model: str | None = None,
        retry_after: float | None = None,
        delay_seconds: float | None = None,
    ) -> None:
        body: dict[str, Any] = {"kind": kind, "count": count, "model": model}
        if retry_after is not None:
            body["retryAfter"] = retry_after
        if delay_seconds is not None:
            body["delaySeconds"] = delay_seconds
        self._client.post("/_sim/faults", json=body).raise_for_status()

    def configure(self, **body: Any) -> None:
        self._client.post("/_sim/config", json=body).raise_for_status()

    def clear_faults(self) -> None:
        self._client.delete("/_sim/faults").raise_for_status()

    def requests_for(self, prompt: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self._client.get("/_sim/requests").json()
            if r["prompt"] == prompt and kind in (None, r.get("kind"))
        ]


@pytest.fixture(scope="session")
def simulator(stack: LocalStack) -> Iterator[Simulator]:
    assert stack.endpoints.simulator_url
    with httpx.Client(base_url=stack.endpoints.simulator_url, timeout=10) as client:
        yield Simulator(client)


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "simulator" in request.fixturenames:
        request.getfixturevalue("simulator").clear_faults()


@pytest.fixture(scope="session")
def jobs_container(stack: LocalStack) -> Iterator[ContainerProxy]:
    settings = stack.settings
    assert settings.cosmos_key
    with CosmosClient(
        settings.cosmos_endpoint,
        credential=settings.cosmos_key.get_secret_value(),
        enable_endpoint_discovery=False,
    ) as client:
        yield client.get_database_client(settings.cosmos_database).get_container_client("jobs")


@pytest.fixture(scope="session")
def cosmos_containers(stack: LocalStack) -> Iterator[Callable[[str], ContainerProxy]]:
    """Cosmos containers by name (`api-keys`, `rate-limits`, ...)."""
    settings = stack.settings
    assert settings.cosmos_key
    with CosmosClient(
        settings.cosmos_endpoint,
        credential=settings.cosmos_key.get_secret_value(),
        enable_endpoint_discovery=False,
    ) as client:
        yield client.get_database_client(settings.cosmos_database).get_container_client


@pytest.fixture(scope="session")
def blob_service(stack: LocalStack) -> Iterator[BlobServiceClient]:
    settings = stack.settings
    assert settings.storage_connection_string
    with BlobServiceClient.from_connection_string(
        settings.storage_connection_string.get_secret_value()
    ) as client:
        yield client


@pytest.fixture(scope="session")
def queues(stack: LocalStack) -> Iterator[QueueFactory]:
    """Queue clients by name (base64, as the host expects), closed at the end of the session."""
    settings = stack.settings
    assert settings.storage_connection_string
    connection_string = settings.storage_connection_string.get_secret_value()
    opened: dict[str, QueueClient] = {}

    def get(name: str) -> QueueClient:
        if name not in opened:
            opened[name] = QueueClient.from_connection_string(
                connection_string, name, message_encode_policy=TextBase64EncodePolicy()
            )
        return opened[name]

    yield get
    for client in opened.values():
        client.close()


def unique_prompt(text: str) -> str:
    return f"{text} #{uuid.uuid4().hex[:8]}"


def wait_for_terminal(api: httpx.Client, job_id: str, *, timeout: float = 45) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"/v1/images/generations/{job_id}")
        if response.status_code == 200:
            return dict(response.json())
        assert response.status_code == 202, response.text
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} did not finish within {timeout}s: {response.json()}")


def wait_for_thumbnail(api: httpx.Client, job_id: str, *, timeout: float = 60) -> dict[str, Any]:
    """The succeeded job once its first image's thumbnail is recorded (Event Grid, via the dev host's blob
    watcher): the last write a generated job gets."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = wait_for_terminal(api, job_id)
        if job["outputs"] and job["outputs"][0]["thumbnailUrl"]:
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} got no thumbnail within {timeout}s: {job}")


def submit(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/images/generations", json=body)
    assert response.status_code == 202, response.text
    return dict(response.json())
