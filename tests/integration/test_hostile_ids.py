"""Hostile ids in URL paths: every id route of every family, sent raw (percent-encoded exactly as written,
never re-encoded by the client), answers 4xx in its family's envelope and changes nothing.

The id routes are read from the served OpenAPI document, so a route added later is fuzzed too. What reaches
a route depends on the front end: this one (the dev host) decodes `%2e%2e` into `..`, the Functions host
resolves it away; both decode `%2f` differently. So each answer is judged by what it is: a function's
answer (it carries `x-request-id`) is a 4xx in the family's envelope, and exactly what an unknown id gets
when the path still names this route; the front end's own refusal (no `x-request-id`) is a 4xx; a 2xx only
for a read whose dot segments resolve to another route (`/presets/.` is `/presets`). Whatever the answer,
no document changed: another tenant's job, preset and key, this tenant's preset, and every container.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from azure.cosmos import ContainerProxy
from jsonschema import Draft202012Validator

from devtools.stack.stack import LocalStack
from shared.resources import COSMOS_CONTAINERS, RATE_LIMITS_CONTAINER
from tests.integration.conftest import (
    ADMIN_KEY,
    DEV_KEY,
    create_key,
    unique_prompt,
    unique_tenant,
    wait_for_terminal,
)
from tests.integration.contract import Contract

pytestmark = pytest.mark.integration

ContainerFactory = Callable[[str], ContainerProxy]

# Raw path segments. Dot segments plain and encoded, path and URL syntax encoded, double encoding, control
# characters, unicode (bidi override, emoji, accented), very long.
HOSTILE_IDS = [
    ".",
    "..",
    "%2e",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "%2e%2e%2f",
    "%2f",
    "..%2f",
    "%2e%2e%2fpresets",
    "%2e%2e%2f%2e%2e",
    "%5c",
    "..%5c",
    "a%3fb",
    "a%23b",
    "%25",
    "%252e%252e",
    "%00",
    "%0a",
    "%0d%0a",
    "%09",
    "%7f",
    "%20",
    "caf%C3%A9",
    "%E2%80%AE",
    "%F0%9F%98%80",
    "x" * 300,
    "a" * 4000,
]
# Well-formed ids of nothing: what an unknown id answers, per route.
UNKNOWN_IDS = {
    "job_id": "00000000-0000-4000-8000-000000000000",
    "generation_id": "00000000-0000-4000-8000-000000000000",
    "image_id": "00000000-0000-4000-8000-000000000000-0",
    "preset_id": "preset_00000000000000000000000000000000",
    "key_id": "0000000000000000",
    "token": "k.cGF5bG9hZA.c2lnbmF0dXJl",
    "asset": "unknown.js",
}
# The id routes of every family (the test fuzzes whatever the document lists; these must be among them).
ID_ROUTES = {
    "get_generation",
    "cancel_generation",
    "delete_generation",
    "get_library_image",
    "get_library_image_content",
    "get_preset",
    "replace_preset",
    "delete_preset",
    "revoke_api_key",
    "follow_image_link",
    "seed000_get_image_metadata",
    "seed001_get_generation",
    "seed001_delete_generation",
    "seed002_get_generation",
    "seed002_get_library_image",
    "seed002_download_library_image",
    "playground_asset",
}
PRESET = {
    "name": "victim",
    "promptTemplate": "a {{thing}}",
    "requirements": [{"key": "thing", "type": "text"}],
}
_PARAMETER = re.compile(r"\{([A-Za-z_]+)\}")


def _id_operations(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path template, parameter name, operation) of every route with an id in its path."""
    found = []
    for path, operations in document["paths"].items():
        names = _PARAMETER.findall(path)
        if not names:
            continue
        assert len(names) == 1, path
        for method, operation in operations.items():
            found.append((method.upper(), path, names[0], operation))
    return found


@pytest.fixture(scope="module")
def victim(admin: httpx.Client, stack: LocalStack, contract: Contract) -> Iterator[dict[str, Any]]:
    """Another tenant with a key, a preset and a finished job: what a hostile id must never reach."""
    tenant = unique_tenant("victim")
    key = create_key(admin, tenant)
    with httpx.Client(
        base_url=stack.endpoints.api_url,
        headers={"X-API-Key": key["key"]},
        timeout=30,
        event_hooks={"response": [contract.check]},
    ) as client:
        preset = client.post("/v1/presets", json=PRESET)
        assert preset.status_code == 201, preset.text
        submitted = client.post("/v1/images/generations", json={"prompt": unique_prompt("victim")})
        assert submitted.status_code == 202, submitted.text
        job = wait_for_terminal(client, submitted.json()["id"])
        assert job["status"] == "succeeded"
        yield {"tenant": tenant, "key": key, "preset": preset.json(), "job": job, "client": client}


def _snapshot(cosmos_containers: ContainerFactory, victim: dict[str, Any], own_preset: str) -> dict[str, Any]:
    """What must not change: the containers, their sizes (not the rate-limit counters every request bumps,
    nor the jobs and credits background work may touch), the victim's documents and our preset."""
    tenant = victim["tenant"]
    job = cosmos_containers("jobs").read_item(victim["job"]["id"], partition_key=tenant)
    counted = [c.name for c in COSMOS_CONTAINERS if c is not RATE_LIMITS_CONTAINER]
    return {
        "containers": {
            c.name: cosmos_containers(c.name).read()["id"]
            for c in COSMOS_CONTAINERS
            if c is not RATE_LIMITS_CONTAINER
        },
        "counts": {
            name: list(
                cosmos_containers(name).query_items(
                    "SELECT VALUE COUNT(1) FROM c", enable_cross_partition_query=True
                )
            )
            for name in counted
        },
        "victim job": (job["status"], [o["blobName"] for o in job["outputs"]], job.get("deletedAt")),
        "victim preset": cosmos_containers("presets").read_item(victim["preset"]["id"], partition_key=tenant)[
            "_etag"
        ],
        "victim key": cosmos_containers("api-keys").read_item(
            victim["key"]["id"], partition_key=victim["key"]["id"]
        )["_etag"],
        "own preset": cosmos_containers("presets").read_item(own_preset, partition_key="dev")["_etag"],
    }


def _client_headers(operation: dict[str, Any]) -> dict[str, str]:
    security = operation.get("security") or []
    if {"adminKey": []} in security:
        return {"X-Admin-Key": ADMIN_KEY}
    if security:
        return {"X-API-Key": DEV_KEY}
    return {}


def _send(
    client: httpx.Client, method: str, path: str, name: str, raw_id: str, operation: dict[str, Any]
) -> httpx.Response:
    raw_path = "/api" + path.replace("{" + name + "}", raw_id)
    url = httpx.URL(str(client.base_url)).copy_with(raw_path=raw_path.encode())
    kwargs: dict[str, Any] = {"headers": _client_headers(operation)}
    if method == "PUT":
        kwargs["json"] = PRESET
    if method == "DELETE":
        url = url.copy_with(raw_path=(raw_path + "?hard=true").encode())
    return client.request(method, url, **kwargs)


def _error_schema(document: dict[str, Any], operation: dict[str, Any], status: int) -> dict[str, Any]:
    responses = operation["responses"]
    spec = responses.get(str(status)) or responses["404"]
    return {**spec["content"]["application/json"]["schema"], "components": document["components"]}


def _still_this_route(path: str, name: str, raw_path: str) -> bool:
    """Whether the path, once its escapes are decoded and its dot segments resolved, still names the route
    (a front end may do either; a path that resolves elsewhere is a request for another route)."""
    resolved = posixpath.normpath(unquote(raw_path.split("?")[0]))
    pattern = "^/api" + re.escape(path).replace(re.escape("{" + name + "}"), "[^/]+") + "$"
    return re.match(pattern, resolved) is not None


def test_every_id_route_answers_hostile_ids_with_a_4xx_in_its_envelope_and_changes_nothing(
    api: httpx.Client,
    contract: Contract,
    stack: LocalStack,
    cosmos_containers: ContainerFactory,
    victim: dict[str, Any],
) -> None:
    operations = _id_operations(contract.document)
    assert {operation["operationId"] for *_, operation in operations} >= ID_ROUTES
    own_preset = api.post("/v1/presets", json=PRESET).json()["id"]
    before = _snapshot(cosmos_containers, victim, own_preset)
    problems: list[str] = []

    with httpx.Client(base_url=stack.endpoints.api_url, timeout=30) as raw:
        for method, path, name, operation in operations:
            unknown = _send(raw, method, path, name, UNKNOWN_IDS[name], operation)
            assert unknown.status_code == 404, (method, path, unknown.text)
            unknown_code = _code(unknown.json())
            for raw_id in HOSTILE_IDS:
                response = _send(raw, method, path, name, raw_id, operation)
                where = f"{method} {path} with {raw_id[:24]!r}: {response.status_code} {response.text[:120]}"
                status = response.status_code
                from_function = "x-request-id" in response.headers
                if status >= 500:
                    problems.append(f"{where}: a 5xx")
                elif status < 400:
                    if method != "GET" or _still_this_route(
                        path, name, response.request.url.raw_path.decode()
                    ):
                        problems.append(f"{where}: a success for a hostile id")
                elif from_function:
                    validator = Draft202012Validator(_error_schema(contract.document, operation, status))
                    errors = list(validator.iter_errors(response.json()))
                    if errors:
                        problems.append(f"{where}: not the family's envelope ({errors[0].message})")
                    same_route = _still_this_route(path, name, response.request.url.raw_path.decode())
                    if same_route and (status, _code(response.json())) != (404, unknown_code):
                        problems.append(f"{where}: not what an unknown id answers ({unknown_code})")

    assert problems == []
    assert _snapshot(cosmos_containers, victim, own_preset) == before
    assert victim["client"].get(f"/v1/presets/{victim['preset']['id']}").status_code == 200
    assert api.get(f"/v1/presets/{own_preset}").status_code == 200
    assert api.get("/v1/presets").status_code == 200


def _code(body: Any) -> str:
    """The error code in any family's envelope."""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("code"))
    return str(body.get("code"))
