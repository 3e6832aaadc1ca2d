"""The OpenAPI document: complete (every HTTP route of the app), fresh (docs/openapi.json), well formed."""

from __future__ import annotations

import json
from pathlib import Path

import azure.functions as func
from pydantic import BaseModel, Field

import function_app  # noqa: F401  (registers every route module's operations)
from shared import openapi
from shared.models.common import RequestModel

ROOT = Path(__file__).resolve().parents[2]


def _http_routes(functions: list[func.Function]) -> set[tuple[str, str]]:
    routes = set()
    for function in functions:
        for binding in json.loads(function.get_function_json())["bindings"]:
            if binding["type"] == "httpTrigger":
                for method in binding["methods"]:
                    routes.add((method.lower(), openapi.openapi_path(binding["route"])))
    return routes


def test_every_http_route_of_the_app_is_in_the_document(app_functions: list[func.Function]) -> None:
    document = openapi.build_document()
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    served = _http_routes(app_functions)

    missing = served - documented

    assert not missing, f"routes without an operation in shared/openapi.py's registry: {sorted(missing)}"
    assert documented == served, "the document lists an operation the app does not serve"


def test_docs_openapi_json_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()

    assert committed == openapi.render(), "docs/openapi.json is stale: run `make openapi`"


def test_operations_get_their_error_responses_security_and_parameters() -> None:
    document = openapi.build_document()

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
    assert status["parameters"] == [
        {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
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
        openapi.Operation(
            method="GET",
            route="v1/things/{thing_id:guid}/content",
            operation_id="thing_content",
            summary="Bytes",
            auth=openapi.Auth.READ,
            responses={200: "image/png"},
            query=_ThingQuery,
            errors=(404,),
        ),
        openapi.Operation(
            method="GET", route="v1/things", operation_id="list_things", summary="List",
            auth=openapi.Auth.READ, responses={200: _Thing},
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
