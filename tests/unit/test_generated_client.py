"""A standard generator (openapi-python-client) makes a working client of docs/openapi.json: a function for
every operation, and the package imports and calls the API."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import function_app
from shared import openapi
from shared.http.endpoint import declared_operations

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "generated_imagegen_client"
# The generator reads binary bodies only as application/octet-stream: image answers are bytes too.
CONFIG = {
    "content_type_overrides": {
        media: "application/octet-stream" for media in ("image/png", "image/jpeg", "image/webp")
    }
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("generated")
    config = workdir / "config.json"
    config.write_text(json.dumps(CONFIG))
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(ROOT / "docs" / "openapi.json"),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(workdir / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        # Its post-generation hooks run ruff, found next to this interpreter.
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout, result.stdout
    return workdir


def _normalized(name: str) -> str:
    return name.replace("_", "").lower()


def test_every_operation_becomes_a_function(generated: Path) -> None:
    document = openapi.render(declared_operations(function_app.app))
    operation_ids = {
        op["operationId"] for ops in json.loads(document)["paths"].values() for op in ops.values()
    }
    modules = {
        _normalized(path.stem): path
        for path in (generated / PACKAGE / "api").glob("*/*.py")
        if path.stem != "__init__"
    }

    assert {_normalized(op) for op in operation_ids} - set(modules) == set()
    assert len(modules) == len(operation_ids)


def test_the_generated_package_imports_and_calls_the_api(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(generated))
    client_module = importlib.import_module(PACKAGE)
    for path in (generated / PACKAGE / "api").glob("*/*.py"):
        if path.stem == "__init__":
            continue
        module = importlib.import_module(f"{PACKAGE}.api.{path.parent.name}.{path.stem}")
        assert callable(module.sync_detailed) and callable(module.asyncio_detailed), path
    usage = importlib.import_module(f"{PACKAGE}.api.usage.get_usage")
    answer = {"balance": 98, "reserved": 1, "available": 97, "spent": 2, "openReservations": 1}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/usage"
        assert request.headers["X-API-Key"] == "local-dev-key"
        return httpx.Response(200, json=answer)

    client = client_module.Client(
        base_url="http://127.0.0.1:7071/api",
        headers={"X-API-Key": "local-dev-key"},
        httpx_args={"transport": httpx.MockTransport(handler)},
    )
    with client:
        parsed = usage.sync(client=client)

    assert parsed.available == 97 and parsed.open_reservations == 1
