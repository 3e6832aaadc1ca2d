"""Query parameters parsed into a pydantic model, with the same 400 as a bad body."""

from __future__ import annotations

import azure.functions as func
from pydantic import BaseModel, ValidationError

from shared.errors import validation_error
from shared.models.jobs import ResponseFormat


def parse_query[ModelT: BaseModel](req: func.HttpRequest, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(dict(req.params))
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in item["loc"]) or "query", "message": item["msg"]}
            for item in exc.errors(include_url=False, include_input=False)
        ]
        first = errors[0]
        raise validation_error(
            f"Invalid query parameter {first['field']}: {first['message']}.", details=errors
        ) from exc


def query_flag(req: func.HttpRequest, name: str) -> bool:
    """A boolean query parameter: `true`/`1` is true, absent or anything else is false."""
    return (req.params.get(name) or "").strip().lower() in ("true", "1")


def response_format_param(req: func.HttpRequest) -> ResponseFormat:
    """The `response_format` query parameter (url, b64_json, both; url when absent), or a 400."""
    value = req.params.get("response_format") or ResponseFormat.URL.value
    try:
        return ResponseFormat(value)
    except ValueError as exc:
        allowed = ", ".join(f.value for f in ResponseFormat)
        raise validation_error(
            f"Invalid query parameter response_format: expected one of {allowed}.",
            details=[{"field": "response_format", "message": f"expected one of {allowed}"}],
        ) from exc
