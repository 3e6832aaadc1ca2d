"""Query parameters parsed into a pydantic model, with the same 400 as a bad body.

A parameter given twice (`?limit=1&limit=2`) is a 400 naming it: the Functions host would hand the
function `1,2` (its query collection joins repeated keys), a front end taking the first or the last value
would silently pick one. Checking the raw query string holds whatever the front end does.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from pydantic import BaseModel, ValidationError

from shared.errors import QUERY_PARAMETER, FieldProblem, invalid_field, invalid_fields, invalid_input
from shared.models.jobs import ResponseFormat


def parse_query[ModelT: BaseModel](req: func.HttpRequest, model: type[ModelT]) -> ModelT:
    names = {field.alias or name for name, field in model.model_fields.items()}
    _refuse_repeated(req, names)
    try:
        # Not strict: a query string is text (`limit=5`, `includeDeleted=true`).
        return model.model_validate(dict(req.params), strict=False)
    except ValidationError as exc:
        raise invalid_input(exc, prefix=QUERY_PARAMETER, whole="query") from exc


def query_param(req: func.HttpRequest, name: str) -> str | None:
    """One query parameter's value (None when absent); a 400 when it is given more than once."""
    _refuse_repeated(req, {name})
    return req.params.get(name)


def query_flag(req: func.HttpRequest, name: str) -> bool:
    """A boolean query parameter: `true`/`1` is true, `false`/`0` or absent is false, anything else (the
    host's joined `1,2` included) is a 400 naming it."""
    value = (query_param(req, name) or "").strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("", "false", "0"):
        return False
    raise invalid_field(name, "expected true or false", prefix=QUERY_PARAMETER)


def response_format_param(req: func.HttpRequest) -> ResponseFormat:
    """The `response_format` query parameter (url, b64_json, both; url when absent), or a 400."""
    value = query_param(req, "response_format") or ResponseFormat.URL.value
    try:
        return ResponseFormat(value)
    except ValueError as exc:
        allowed = ", ".join(f.value for f in ResponseFormat)
        raise invalid_field("response_format", f"expected one of {allowed}", prefix=QUERY_PARAMETER) from exc


def _refuse_repeated(req: func.HttpRequest, names: set[str]) -> None:
    given = [name for name, _ in parse_qsl(urlsplit(req.url).query, keep_blank_values=True)]
    repeated = sorted({name for name in given if name in names and given.count(name) > 1})
    if repeated:
        raise invalid_fields(
            [FieldProblem(name, "given more than once") for name in repeated], prefix=QUERY_PARAMETER
        )
