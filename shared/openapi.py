"""The OpenAPI 3.1 document, generated from the pydantic models and the operations the app's HTTP functions
declare (`shared.http.endpoint`).

`build_document(declared_operations(app))` is what `GET /api/openapi.json` serves (with its absolute
server URL) and `make openapi` writes to `docs/openapi.json`; a unit test fails when that file is not
what this module generates, and the integration tests validate every answer they receive against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.http.endpoint import Auth, Operation
from shared.models.errors import ErrorEnvelope

TITLE = "Image generation API"
VERSION = "1.0.0"
_REF_TEMPLATE = "#/components/schemas/{model}"
_PARAMETER = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\??\}")

_ERROR_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Missing or invalid credentials",
    402: "Insufficient credits",
    403: "The credentials lack the required scope",
    404: "Not found (or another tenant's)",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    415: "Unsupported media type",
    429: "Rate limit exceeded",
    500: "Internal error",
    503: "Service unavailable",
    504: "Timed out",
}


# The native envelope's example per status (what the service answers most often there).
_ERROR_EXAMPLES: dict[int, tuple[str, str, Any]] = {
    400: (
        "VALIDATION_ERROR",
        "Invalid request: prompt: String should have at least 1 character.",
        [{"field": "prompt", "message": "String should have at least 1 character"}],
    ),
    401: ("UNAUTHORIZED", "Invalid API key.", None),
    402: (
        "INSUFFICIENT_CREDITS",
        "This job costs 2 credit(s); 1 available.",
        {"required": 2, "available": 1},
    ),
    403: ("FORBIDDEN", "The credentials lack the 'write:image-gen' scope.", None),
    404: ("NOT_FOUND", "Job 'd318590d-4224-4390-9ae7-eabfa6587b3d' was not found.", None),
    409: (
        "JOB_NOT_CANCELABLE",
        "Job 'd318590d-4224-4390-9ae7-eabfa6587b3d' already ended succeeded; only queued or running jobs "
        "can be canceled.",
        {"status": "succeeded"},
    ),
    413: ("VALIDATION_ERROR", "The request body is too large.", None),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.", None),
    429: ("RATE_LIMIT_EXCEEDED", "Rate limit of 100 requests exceeded; retry in 1200 s.", None),
    500: ("INTERNAL_ERROR", "Internal error; quote request id 5f0c2a1e-8b7d-4c55-9a53-3f3f6f1b2d7a.", None),
    503: ("SERVICE_UNAVAILABLE", "The job could not be queued; try again.", None),
    504: ("TIMEOUT", "No result within the wait.", None),
}


def openapi_path(route: str) -> str:
    """`v1/things/{id:guid}` → `/v1/things/{id}` (relative to the `/api` server)."""
    return "/" + _PARAMETER.sub(lambda m: "{" + m.group(1) + "}", route.strip("/"))


def build_document(operations: Iterable[Operation], *, server_url: str | None = None) -> dict[str, Any]:
    """The document; `server_url` is the API's absolute base when known (the served copy passes the one it
    was reached at), else the servers are the relative `/api` and `make dev`'s URL."""
    from shared.openapi_examples import EXAMPLES

    ops = sorted(operations, key=lambda op: (openapi_path(op.route), op.method))
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorEnvelope, "serialization")]
    for op in ops:
        models.append((op.error_shape.model, "serialization"))
        if op.request is not None:
            models.append((op.request, "validation"))
        if op.query is not None:
            models.append((op.query, "validation"))
        models.extend(
            (body, "serialization")
            for body in op.responses.values()
            if isinstance(body, type) and issubclass(body, BaseModel)
        )
    unique = list(dict.fromkeys(models))
    refs, definitions = models_json_schema(unique, by_alias=True, ref_template=_REF_TEMPLATE)
    names = _readable_names(definitions.get("$defs", {}))
    schemas: dict[str, Any] = _renamed(definitions.get("$defs", {}), names)
    for new_name in names.values():
        schemas[new_name]["title"] = new_name.partition("-")[0]  # generators name their classes by title

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(_renamed(refs[(model, mode)], names))

    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        operation_object = _operation_object(op, ref, schemas)
        _add_examples(operation_object, EXAMPLES.get(op.operation_id))
        path = paths.setdefault(openapi_path(op.route), {})
        if op.method.lower() in path:
            raise RuntimeError(f"two operations are {op.method} {op.route}: give one another route")
        path[op.method.lower()] = operation_object
    servers = (
        [{"url": server_url}]
        if server_url
        else [
            {"url": "/api", "description": "The app's own host (set PUBLIC_API_BASE_URL behind a gateway)"},
            {"url": "http://127.0.0.1:7071/api", "description": "make dev"},
        ]
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Image generation jobs on Gemini and Azure OpenAI. See docs/api.md, docs/auth.md.",
        },
        "servers": servers,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An OIDC access token (JWT) or an API key.",
                },
                "adminKey": {"type": "apiKey", "in": "header", "name": "X-Admin-Key"},
            },
            "headers": {
                "X-Request-Id": {"description": "The request's id (yours if you sent one)", "schema": _STR},
                "X-RateLimit-Limit": {"description": "Requests allowed per window", "schema": _INT},
                "X-RateLimit-Remaining": {"description": "Requests left in this window", "schema": _INT},
                "X-RateLimit-Reset": {"description": "Seconds until the window resets", "schema": _INT},
            },
        },
    }


_STR = {"type": "string"}
_INT = {"type": "integer"}
# A multipart body: the JSON body's fields as form fields and the files of the preset's requirements.
_FORM_SCHEMA = {
    "type": "object",
    "description": "The JSON body's fields as form fields (objects and lists as JSON text) and the files of "
    "the preset's file requirements (docs/api.md, Presets).",
    "additionalProperties": {"type": "string"},
}


def _readable_names(schemas: Mapping[str, Any]) -> dict[str, str]:
    """New names for the schemas pydantic names by module path because two models share a class name
    (`shared__compat__seed001_models__EnhancementOptions`): the native models (`shared.models`) keep the
    class name, another module's get its name as a prefix (`Seed001EnhancementOptions`)."""
    renamed: dict[str, str] = {}
    for name in schemas:
        qualified, dash, mode = name.partition("-")
        *module, class_name = qualified.split("__")
        if not module:
            continue
        family = "" if module[:2] == ["shared", "models"] else module[-1].removesuffix("_models")
        prefix = "".join(part.capitalize() for part in family.split("_"))
        renamed[name] = prefix + class_name + dash + mode
    kept = [name for name in schemas if name not in renamed]
    new = list(renamed.values())
    clashes = sorted({name for name in new if new.count(name) > 1 or name in kept})
    if clashes:
        raise RuntimeError(f"two schemas would be named {', '.join(clashes)}: rename one of the models")
    return renamed


def _renamed(value: Any, names: Mapping[str, str]) -> Any:
    """`value` with every schema key and `$ref` renamed by `names`."""
    if not names:
        return value
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                prefix, _, target = item.rpartition("/")
                result[key] = f"{prefix}/{names.get(target, target)}"
            else:
                result[names.get(key, key)] = _renamed(item, names)
        return result
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    return value


def _add_examples(operation_object: dict[str, Any], examples: OperationExamples | None) -> None:
    """Put an operation's examples on its request body, answers and parameters."""
    if examples is None:
        return
    if examples.request is not None and "requestBody" in operation_object:
        for media in operation_object["requestBody"]["content"].values():
            media["example"] = examples.request
    for status, body in examples.responses.items():
        response = operation_object["responses"][str(status)]
        for media_type, media in response.get("content", {}).items():
            # JSON answers get the decoded example; text answers (a page, a script) a string.
            if media_type.endswith("json") or (isinstance(body, str) and media_type.startswith("text/")):
                media["example"] = body
    for parameter in operation_object.get("parameters", []):
        if parameter["name"] in examples.parameters:
            parameter["example"] = examples.parameters[parameter["name"]]


@dataclass(frozen=True)
class OperationExamples:
    """An operation's example request body, answers by status, and parameter values."""

    request: Any = None
    responses: Mapping[int, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)


def _operation_object(
    op: Operation,
    ref: Callable[[type[BaseModel], JsonSchemaMode], dict[str, Any]],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    headers = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    if op.auth in (Auth.READ, Auth.WRITE):
        for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
            headers[name] = {"$ref": f"#/components/headers/{name}"}
    responses: dict[str, Any] = {}
    for status, body in sorted(op.responses.items()):
        response: dict[str, Any] = {"description": _describe(status), "headers": headers}
        if isinstance(body, str):
            # One media type, or several separated by commas (an image may be PNG, JPEG or WebP).
            response["content"] = {
                media.strip(): {
                    "schema": {"type": "object"}
                    if media.endswith("json")
                    else {"type": "string", "format": "binary"}
                }
                for media in body.split(",")
            }
        elif body is not None:
            response["content"] = {"application/json": {"schema": ref(body, "serialization")}}
        responses[str(status)] = response
    for status in op.error_statuses:
        media: dict[str, Any] = {"schema": ref(op.error_shape.model, "serialization")}
        if op.error_shape.model is ErrorEnvelope and status in _ERROR_EXAMPLES:
            code, message, details = _ERROR_EXAMPLES[status]
            media["example"] = {"error": {"code": code, "message": message, "details": details}}
        responses[str(status)] = {
            "description": _ERROR_DESCRIPTIONS.get(status, "Error"),
            "headers": headers,
            "content": {"application/json": media},
        }
    result: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": list(op.tags),
        "responses": responses,
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _STR}
        for name in _PARAMETER.findall(op.route)
    ]
    if op.query is not None:
        schema = schemas[ref(op.query, "validation")["$ref"].rsplit("/", 1)[-1]]
        required = set(schema.get("required", []))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()
        ]
    if parameters:
        result["parameters"] = parameters
    if op.request is not None:
        body_schema = ref(op.request, "validation")
        result["requestBody"] = {
            "required": True,
            "content": {
                media: {"schema": body_schema if media.endswith("json") else _FORM_SCHEMA}
                for media in op.request_content_types
            },
        }
    caller: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}]
    admin: list[dict[str, list[str]]] = [{"adminKey": []}]
    result["security"] = {Auth.NONE: [], Auth.ADMIN: admin, Auth.READ: caller, Auth.WRITE: caller}[op.auth]
    if op.auth in (Auth.READ, Auth.WRITE):
        result["x-required-scope"] = "read:image-gen" if op.auth is Auth.READ else "write:image-gen"
    return result


def _describe(status: int) -> str:
    return {200: "OK", 201: "Created", 202: "Accepted", 204: "No content", 302: "Found"}.get(
        status, str(status)
    )


def render(operations: Iterable[Operation]) -> str:
    """The document as it is kept in `docs/openapi.json`."""
    return json.dumps(build_document(operations), indent=2, ensure_ascii=False) + "\n"
