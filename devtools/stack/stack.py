"""The whole local stack as one object: start it, use its endpoints, stop it."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from devtools.devhost.config import load_local_settings
from devtools.stack.bootstrap import bootstrap
from devtools.stack.processes import ManagedProcess, free_port, http_ok, port_open
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"
AZURITE_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# `make dev`'s development OIDC issuer (devtools/oidc), started when local.settings.json names no issuer.
DEV_OIDC_PORT = 8091


@dataclass(frozen=True)
class Endpoints:
    blob_port: int
    queue_port: int
    cosmos_port: int
    simulator_port: int | None  # None when the settings point the providers at real services
    api_port: int

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api"

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def simulator_url(self) -> str | None:
        return None if self.simulator_port is None else f"http://127.0.0.1:{self.simulator_port}"


def endpoints_from_settings(values: dict[str, str], api_port: int) -> Endpoints:
    """Where each emulator must listen so that `values` (local.settings.json) reach it."""
    connection = dict(
        part.split("=", 1) for part in values.get("AzureWebJobsStorage", "").split(";") if "=" in part
    )
    blob = urlsplit(connection.get("BlobEndpoint", "http://127.0.0.1:10000"))
    queue = urlsplit(connection.get("QueueEndpoint", "http://127.0.0.1:10001"))
    cosmos = urlsplit(values.get("COSMOS_ENDPOINT", "http://127.0.0.1:8081"))
    simulator_port = None
    for key in ("GEMINI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
        url = urlsplit(values.get(key, ""))
        if url.hostname in LOOPBACK_HOSTS and url.port:
            simulator_port = url.port
    return Endpoints(
        blob_port=blob.port or 10000,
        queue_port=queue.port or 10001,
        cosmos_port=cosmos.port or 8081,
        simulator_port=simulator_port,
        api_port=api_port,
    )


def settings_on_free_ports(base: dict[str, str]) -> tuple[dict[str, str], Endpoints]:
    """`base` with every emulator moved to a free port (for test runs beside a running `make dev`),
    settings that name the storage account's address (`FETCH_DEV_HTTP_HOSTS`) included."""
    ports = Endpoints(free_port(), free_port(), free_port(), free_port(), free_port())
    old_blob = endpoints_from_settings(base, 0).blob_port
    values = dict(base)
    if "FETCH_DEV_HTTP_HOSTS" in values:
        values["FETCH_DEV_HTTP_HOSTS"] = ",".join(
            f"127.0.0.1:{ports.blob_port}"
            if entry.strip().rpartition(":")[2] == str(old_blob)
            and entry.strip().rpartition(":")[0] in LOOPBACK_HOSTS
            else entry.strip()
            for entry in values["FETCH_DEV_HTTP_HOSTS"].split(",")
            if entry.strip()
        )
    values["AzureWebJobsStorage"] = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={AZURITE_ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{ports.blob_port}/devstoreaccount1;"
        f"QueueEndpoint=http://127.0.0.1:{ports.queue_port}/devstoreaccount1;"
    )
    values["COSMOS_ENDPOINT"] = f"http://127.0.0.1:{ports.cosmos_port}"
    values["GEMINI_BASE_URL"] = values["AZURE_OPENAI_ENDPOINT"] = f"http://127.0.0.1:{ports.simulator_port}"
    return values, ports


@dataclass
class LocalStack:
    values: dict[str, str]
    endpoints: Endpoints
    data_dir: Path
    log_dir: Path
    devhost_args: list[str] = field(default_factory=list)
    devhost_log_to_console: bool = False
    oidc_port: int | None = None  # start the development OIDC issuer here (and trust it)
    master_key: str = "devhost-master-key"
    function_key: str = "devhost-function-key"
    eventgrid_key: str = "devhost-eventgrid-key"
    processes: list[ManagedProcess] = field(default_factory=list)

    @classmethod
    def from_local_settings(cls, *, api_port: int = 7071) -> LocalStack:
        values = load_local_settings(ROOT)
        oidc_port = None if values.get("OIDC_ISSUER") else DEV_OIDC_PORT
        return cls(
            values=values,
            endpoints=endpoints_from_settings(values, api_port),
            data_dir=ROOT / ".devdata",
            log_dir=ROOT / ".devdata" / "logs",
            devhost_log_to_console=True,
            oidc_port=oidc_port,
        )

    @property
    def oidc_dir(self) -> Path:
        """Where the development issuer keeps its key (`python -m devtools.token` reads it)."""
        return self.data_dir / "oidc"

    @property
    def telemetry_dir(self) -> Path:
        """Where the app writes its spans, metrics and logs (TELEMETRY_FILES_DIRECTORY), unless the
        settings name another directory; `python -m devtools.trace` reads them."""
        return Path(self.values.get("TELEMETRY_FILES_DIRECTORY") or self.data_dir / "telemetry")

    @property
    def settings(self) -> Settings:
        return Settings(**self.values)

    def start(self) -> None:
        try:
            self._start_emulators()
            if self.oidc_port is not None:
                self._start_oidc_issuer(self.oidc_port)
            self.start_app()
        except BaseException:
            self.stop()
            raise

    def start_app(self) -> None:
        """Create the resources the settings name and start the dev host, without starting emulators:
        alone, this runs a second app (other settings) against the emulators another stack runs."""
        bootstrap(self.settings)
        self._start_devhost()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def process(self, name: str) -> ManagedProcess:
        return next(p for p in self.processes if p.name == name)

    def crash_devhost(self) -> None:
        """Kill the dev host mid-work (SIGKILL), as a crashed Functions host; `restart_devhost` revives it."""
        self.process("devhost").kill()

    def restart_devhost(self) -> None:
        self.process("devhost").start()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_emulators(self) -> None:
        e = self.endpoints
        for port in (e.blob_port, e.queue_port, e.cosmos_port, e.simulator_port, e.api_port, self.oidc_port):
            if port is not None and port_open(port):
                raise RuntimeError(f"port {port} is already in use; is another stack running?")
        azurite_dir = self.data_dir / "azurite"
        azurite_dir.mkdir(parents=True, exist_ok=True)
        # Azurite's Blob service sits behind the Event Grid front end, which takes the Blob port.
        azurite_blob_port = free_port()
        self._run(
            ManagedProcess(
                "azurite",
                [
                    str(NODE_BIN / "azurite"),
                    "--silent",
                    "--skipApiVersionCheck",
                    "--location",
                    str(azurite_dir),
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    str(azurite_blob_port),
                    "--queueHost",
                    "127.0.0.1",
                    "--queuePort",
                    str(e.queue_port),
                    "--tableHost",
                    "127.0.0.1",
                    "--tablePort",
                    str(free_port()),
                ],
                ready=lambda: port_open(azurite_blob_port) and port_open(e.queue_port),
                log_path=self.log_dir / "azurite.log",
            )
        )
        self._run(
            ManagedProcess(
                "eventgrid",
                [
                    sys.executable,
                    "-m",
                    "devtools.eventgrid",
                    "--port",
                    str(e.blob_port),
                    "--upstream-port",
                    str(azurite_blob_port),
                    "--webhook-base-url",
                    e.host_url,
                ],
                ready=lambda: port_open(e.blob_port),
                env={**self.values, "DEVHOST_EVENTGRID_KEY": self.eventgrid_key, "PYTHONUNBUFFERED": "1"},
                cwd=ROOT,
                log_path=self.log_dir / "eventgrid.log",
            )
        )
        self._run(
            ManagedProcess(
                "cosmosdb-server",
                [
                    str(NODE_BIN / "cosmosdb-server"),
                    "--no-ssl",
                    "--keep-alive",  # patches/: Cosmos DB keeps connections; the emulator closed each one
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(e.cosmos_port),
                ],
                ready=lambda: port_open(e.cosmos_port),
                log_path=self.log_dir / "cosmosdb-server.log",
            )
        )
        if e.simulator_port is not None:
            self._run(
                ManagedProcess(
                    "simulator",
                    [sys.executable, "-m", "devtools.simulator", "--port", str(e.simulator_port)],
                    ready=http_ok(f"http://127.0.0.1:{e.simulator_port}/_sim/health"),
                    cwd=ROOT,
                    log_path=self.log_dir / "simulator.log",
                )
            )

    def _start_oidc_issuer(self, port: int) -> None:
        from devtools.oidc import DEV_AUDIENCE

        issuer = f"http://127.0.0.1:{port}"
        self._run(
            ManagedProcess(
                "oidc-issuer",
                [sys.executable, "-m", "devtools.oidc", "--port", str(port), "--dir", str(self.oidc_dir)],
                ready=http_ok(f"{issuer}/.well-known/openid-configuration"),
                cwd=ROOT,
                log_path=self.log_dir / "oidc-issuer.log",
            )
        )
        self.values.update({"OIDC_ISSUER": issuer, "OIDC_AUDIENCE": DEV_AUDIENCE})

    def _start_devhost(self) -> None:
        e = self.endpoints
        env = {
            "TELEMETRY_FILES_DIRECTORY": str(self.telemetry_dir),
            **self.values,  # an empty TELEMETRY_FILES_DIRECTORY turns the file export off
            "DEVHOST_MASTER_KEY": self.master_key,
            "DEVHOST_FUNCTION_KEY": self.function_key,
            "DEVHOST_EVENTGRID_KEY": self.eventgrid_key,
            "PYTHONUNBUFFERED": "1",
        }
        self._run(
            ManagedProcess(
                "devhost",
                [
                    sys.executable,
                    "-m",
                    "devtools.devhost",
                    "--app-dir",
                    str(ROOT),
                    "--port",
                    str(e.api_port),
                    *self.devhost_args,
                ],
                ready=http_ok(f"{e.host_url}/admin/host/status", {"x-functions-key": self.master_key}),
                env=env,
                cwd=ROOT,
                log_path=None if self.devhost_log_to_console else self.log_dir / "devhost.log",
            )
        )

    def _run(self, process: ManagedProcess) -> None:
        self.processes.append(process)
        process.start()


def redact(values: dict[str, str]) -> str:
    """Settings for display, with keys and secrets masked."""
    masked = {
        key: re.sub(r"(AccountKey=)[^;]+", r"\1***", value) if "KEY" not in key.upper() else "***"
        for key, value in values.items()
    }
    return json.dumps(masked, indent=2)
