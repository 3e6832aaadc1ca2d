"""The OpenAPI document: complete (every HTTP route of the app), fresh (docs/openapi.json), well formed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import azure.functions as func
import jsonschema
from pydantic import BaseModel, Field

import function_app
from shared import openapi
from shared.http.endpoint import Auth, Operation, declared_operations
from shared.models.common import RequestModel
from shared.openapi_examples import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = declared_operations(function_app.app)


def _http_routes(functions: list[func.Function]) -> set[tuple[str, str]]:
    routes = set()
    for function in functions:
        for binding in json.loads(function.get_function_json())["bindings"]:
            if binding["type"] == "httpTrigger":
                for method in binding["methods"]:
                    routes.add((method.lower(), openapi.openapi_path(binding["route"])))
    return routes


def test_every_http_route_of_the_app_is_in_the_document(app_functions: list[func.Function]) -> None:
    document = openapi.build_document(OPERATIONS)
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    served = _http_routes(app_functions)

    missing = served - documented

    assert not missing, f"HTTP functions without a declared operation: {sorted(missing)}"
    assert documented == served, "the document lists an operation the app does not serve"


def test_docs_openapi_json_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()

    assert committed == openapi.render(OPERATIONS), "docs/openapi.json is stale: run `make openapi`"


def test_operations_get_their_error_responses_security_and_parameters() -> None:
    document = openapi.build_document(OPERATIONS)

    submit = document["paths"]["/v1/images/generations"]["post"]
    assert set(submit["responses"]) == {
        "200", "202", "400", "401", "402", "403", "404", "409", "415", "429", "500", "503",
    }  # fmt: skip
    assert "503" in document["paths"]["/v1/images/generations/{job_id}"]["get"]["responses"]
    assert submit["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GenerationRequest"
    }
    assert submit["x-required-scope"] == "write:image-gen"
    assert "X-RateLimit-Remaining" in submit["responses"]["429"]["headers"]
    status = document["paths"]["/v1/images/generations/{job_id}"]["get"]
    assert status["parameters"][0] == {
        "name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}, "example": ANY
    }  # fmt: skip
    assert [p["name"] for p in status["parameters"][1:]] == ["response_format", "includeDeleted"]
    assert document["paths"]["/health"]["get"]["security"] == []
    assert document["paths"]["/v1/admin/api-keys"]["post"]["security"] == [{"adminKey": []}]
    for path in document["paths"].values():
        for operation in path.values():
            for response in operation["responses"].values():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                ref = schema.get("$ref")
                assert ref is None or ref.rsplit("/", 1)[-1] in document["components"]["schemas"]


class _ThingQuery(RequestModel):
    status: str | None = Field(default=None, description="Filter by status.")
    limit: int = Field(default=20, le=100)


class _Thing(BaseModel):
    id: str


def test_a_route_module_registers_an_operation_with_query_parameters_and_binary_answers() -> None:
    ops = [
        Operation(
            method="GET",
            route="v1/things/{thing_id:guid}/content",
            operation_id="thing_content",
            summary="Bytes",
            auth=Auth.READ,
            responses={200: "image/png"},
            query=_ThingQuery,
            errors=(404,),
        ),
        Operation(
            method="GET", route="v1/things", operation_id="list_things", summary="List",
            auth=Auth.READ, responses={200: _Thing},
        ),
    ]  # fmt: skip

    document = openapi.build_document(ops)

    content = document["paths"]["/v1/things/{thing_id}/content"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in content["parameters"]] == [
        ("thing_id", "path", True),
        ("status", "query", False),
        ("limit", "query", False),
    ]
    assert content["responses"]["200"]["content"] == {
        "image/png": {"schema": {"type": "string", "format": "binary"}}
    }
    assert "_Thing" in document["components"]["schemas"]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_no_schema_name_leaks_a_module_path_and_colliding_models_get_their_family_prefix() -> None:
    schemas = openapi.build_document(OPERATIONS)["components"]["schemas"]

    assert [name for name in schemas if "__" in name] == []
    assert {"EnhancementOptions", "Seed001EnhancementOptions"} <= set(schemas)
    assert schemas["Seed001EnhancementOptions"]["title"] == "Seed001EnhancementOptions"
    create = schemas["CreateGenerationRequest"]["properties"]["enhancementOptions"]
    assert {"$ref": "#/components/schemas/Seed001EnhancementOptions"} in create["anyOf"]


def test_servers_are_the_absolute_base_when_known() -> None:
    assert openapi.build_document(OPERATIONS, server_url="https://images.example.com/api")["servers"] == [
        {"url": "https://images.example.com/api"}
    ]
    assert [s["url"] for s in openapi.build_document(OPERATIONS)["servers"]] == [
        "/api",
        "http://127.0.0.1:7071/api",
    ]


def test_every_operation_has_examples_for_its_body_answers_and_path_parameters() -> None:
    document = openapi.build_document(OPERATIONS)
    missing = []
    for path, method, op in _operations(document):
        if "requestBody" in op and "example" not in op["requestBody"]["content"]["application/json"]:
            missing.append(f"{method} {path}: request body")
        successes = [r for status, r in op["responses"].items() if status.startswith("2")]
        # Binary answers (image bytes) have no example; their path parameters do.
        with_body = [
            r
            for r in successes
            if any(m["schema"].get("format") != "binary" for m in r.get("content", {}).values())
        ]
        if with_body and not any("example" in media for r in with_body for media in r["content"].values()):
            missing.append(f"{method} {path}: answer")
        for parameter in op.get("parameters", []):
            if parameter["in"] == "path" and "example" not in parameter:
                missing.append(f"{method} {path}: {parameter['name']}")
    assert missing == [], "add them to shared/openapi_examples.json"
    assert set(EXAMPLES) <= {op["operationId"] for _, _, op in _operations(document)}


def test_examples_validate_against_the_operations_schemas() -> None:
    document = openapi.build_document(OPERATIONS)
    components = {"components": document["components"]}
    operations = {op.operation_id: op for op in OPERATIONS}
    for path, method, op in _operations(document):
        registered = operations[op["operationId"]]
        example = EXAMPLES.get(op["operationId"])
        if example is not None and example.request is not None:
            assert registered.request is not None, op["operationId"]
            registered.request.model_validate_json(json.dumps(example.request))  # strict, as a request is
        for status, response in op["responses"].items():
            for media_type, media in response.get("content", {}).items():
                if "example" in media and media_type.endswith("json") and "$ref" in media["schema"]:
                    validator = jsonschema.Draft202012Validator({**media["schema"], **components})
                    errors = [e.message for e in validator.iter_errors(media["example"])]
                    assert errors == [], f"{method} {path} {status}: {errors[:3]}"
