"""Schema fuzzing over HTTP: every JSON request body and every query parameter the served OpenAPI document
describes, sent with values of the wrong type (and the named cases that once answered 500), answers a 400
in the route family's envelope and creates nothing.

Each client checks every answer against the document (the family's error envelope included); the cases
are generated from the document, so a field added later is fuzzed too. Nested fields of every request
model are fuzzed in the unit layer (`tests/unit/test_strict_requests.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy

from tests.integration.conftest import Simulator, unique_prompt
from tests.integration.contract import Contract

pytestmark = pytest.mark.integration

ContainerFactory = Callable[[str], ContainerProxy]

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
PRESET = {"name": "fuzz", "promptTemplate": "a {{thing}}", "requirements": [{"key": "thing", "type": "text"}]}
MARKER = unique_prompt("schema fuzz: must never run")

# A valid body per operation; each case changes one field of it. (Seed 003's request declares no types:
# its own rules check them, in tests/integration/test_seed003.py.)
BASES: dict[str, dict[str, Any]] = {
    "submit_generation": {"prompt": MARKER},
    "create_preset": PRESET,
    "replace_preset": PRESET,
    "create_api_key": {"tenantId": "fuzz-tenant"},
    "seed000_create_image": {"images": [PNG_B64], "prompt": MARKER},
    "seed001_create_generation": {"prompt": MARKER, "autoEnhance": False},
    "seed002_submit_generation": {"prompt": MARKER},
}
WRONG: dict[str, list[Any]] = {
    "boolean": ["yes", "true", "off", 1, 0],
    "integer": ["5", 5.5, True],
    "number": ["5", True],
    "string": [5, True, ["x"]],
    "array": ["x", {"a": 1}],
    "object": ["x", [1]],
}
# The named 500s of the hostile-input report, each now a 400.
NAMED_CASES: list[tuple[str, dict[str, Any]]] = [
    ("seed002_submit_generation", {"refImageUrls": [""]}),
    ("seed002_submit_generation", {"refImageUrls": ["   "]}),
    ("seed002_submit_generation", {"presetId": ""}),
    ("submit_generation", {"presetId": ""}),
    ("submit_generation", {"presetId": "%2e%2e"}),
    ("submit_generation", {"referenceImages": [{"url": ""}]}),
    ("submit_generation", {"referenceImages": [{"outputId": "..\n"}]}),
    ("seed002_submit_generation", {"sampleCount": 11}),
]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def _types(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        return set().union(*(_types(document, option) for option in schema["anyOf"]))
    if "enum" in schema:
        return {"string"} if all(isinstance(v, str) for v in schema["enum"]) else {"any"}
    return {schema["type"]} if "type" in schema else {"any"}


def _fits(value: Any, types: set[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return bool(types & {"integer", "number"})
    if isinstance(value, float):
        return "number" in types
    kinds: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return kinds.get(type(value)) in types


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def _body_cases(document: dict[str, Any]) -> list[tuple[str, str, Any]]:
    cases = []
    for operation_id, (_, _, operation) in _operations(document).items():
        if operation_id not in BASES:
            continue
        schema = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
        for name, prop in schema["properties"].items():
            types = _types(document, prop)
            if "any" in types:
                continue
            cases += [
                (operation_id, name, value)
                for values in WRONG.values()
                for value in values
                if not _fits(value, types)
            ]
    return cases


def _count(container: ContainerProxy) -> int:
    counts: list[object] = list(
        container.query_items("SELECT VALUE COUNT(1) FROM c", enable_cross_partition_query=True)
    )
    total = 0
    for count in counts:
        assert isinstance(count, int), counts
        total += count
    return total


def test_every_body_field_of_the_wrong_json_type_is_a_400_in_the_familys_envelope(
    api: httpx.Client,
    admin: httpx.Client,
    contract: Contract,
    cosmos_containers: ContainerFactory,
    simulator: Simulator,
) -> None:
    document = contract.document
    operations = _operations(document)
    cases = _body_cases(document) + [
        (op, name, value) for op, fields in NAMED_CASES for name, value in fields.items()
    ]
    covered = {(op, name) for op, name, _ in cases}
    assert {("submit_generation", "autoEnhance"), ("seed001_create_generation", "autoEnhance")} <= covered
    assert {("seed002_submit_generation", "sampleCount"), ("create_api_key", "rateLimit")} <= covered
    preset_id = api.post("/v1/presets", json=PRESET).json()["id"]
    counts = {name: _count(cosmos_containers(name)) for name in ("jobs", "presets", "api-keys")}
    problems = []

    for operation_id, name, value in cases:
        method, path, _ = operations[operation_id]
        client = admin if operation_id == "create_api_key" else api
        body = {**BASES[operation_id], name: value}
        url = path.replace("{preset_id}", preset_id)
        if operation_id == "seed002_submit_generation":
            url += "?async=true"  # an accepted case must not wait for its image
        response = client.request(method, url, json=body)
        if response.status_code != 400:
            problems.append(f"{operation_id} {name}={value!r}: {response.status_code} {response.text[:200]}")

    assert problems == []
    assert {name: _count(cosmos_containers(name)) for name in counts} == counts
    assert simulator.requests_for(MARKER) == []


def test_every_query_parameter_given_twice_or_joined_is_a_400_in_the_familys_envelope(
    api: httpx.Client, contract: Contract
) -> None:
    problems = []
    tried = 0
    for operation_id, (method, path, operation) in _operations(contract.document).items():
        if method != "GET":
            continue
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            types = _types(contract.document, parameter["schema"])
            queries = [f"{name}=1&{name}=2"]
            if types & {"integer", "boolean"}:
                queries.append(f"{name}=1,2")
            for query in queries:
                tried += 1
                response = api.request(method, f"{path}?{query}")
                if response.status_code != 400 or name not in response.text:
                    problems.append(f"{operation_id} ?{query}: {response.status_code} {response.text[:160]}")

    assert tried >= 20
    assert problems == []
