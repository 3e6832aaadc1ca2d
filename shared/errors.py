"""The one exception type that becomes an HTTP error answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared.models.errors import ErrorCode

# How a refused request's message begins: a body (or form) field, or a query parameter.
REQUEST_FIELD = "Invalid request: "
QUERY_PARAMETER = "Invalid query parameter "


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: ErrorCode | str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = str(code)
        self.message = message
        self.details = details
        self.headers = headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, f"{what} was not found.")


def validation_error(message: str, details: Any = None) -> ApiError:
    return ApiError(400, ErrorCode.VALIDATION_ERROR, message, details=details)


@dataclass(frozen=True)
class FieldProblem:
    """One field's problem in a refused request: a `details` item of the 400."""

    field: str
    message: str


def invalid_fields(
    problems: Sequence[FieldProblem], *, prefix: str = REQUEST_FIELD, name_all: bool = False
) -> ApiError:
    """The 400 for `problems`: `details` lists each field and its message; the message names the first
    (`Invalid request: <field>: <message>.`), or with `name_all` each of them, `; `-separated."""
    named = problems if name_all else problems[:1]
    return _refused(_sentence(prefix + "; ".join(f"{p.field}: {p.message}" for p in named)), problems)


def invalid_field(
    field: str, message: str, *, detail: str | None = None, prefix: str = REQUEST_FIELD
) -> ApiError:
    """The 400 for one field: `message` says what is wrong with it; `details` lists `detail` where that
    is a shorter way to say it."""
    return _refused(_sentence(f"{prefix}{field}: {message}"), [FieldProblem(field, detail or message)])


def invalid_input(exc: ValidationError, *, prefix: str = REQUEST_FIELD, whole: str = "body") -> ApiError:
    """The 400 for a body, form or query that did not validate as its model: every error by its field
    (`whole` names an error of the input as a whole)."""
    errors = exc.errors(include_url=False, include_input=False)
    problems = [FieldProblem(".".join(str(part) for part in e["loc"]) or whole, e["msg"]) for e in errors]
    if errors[0]["type"] == "json_invalid":
        return _refused("The request body is not valid JSON.", problems)
    return invalid_fields(problems, prefix=prefix)


def _refused(message: str, problems: Sequence[FieldProblem]) -> ApiError:
    return validation_error(message, details=[{"field": p.field, "message": p.message} for p in problems])


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def renamed_fields(error: ApiError, rename: Callable[[str], str]) -> ApiError:
    """`error` naming fields as `rename` says: how a route family reports the core's validation errors in
    its callers' own field names. Renames the `field` of each detail and the same names where the message
    quotes them (`Invalid request: <field>: ...; <field>: ...`)."""
    if not isinstance(error.details, list):
        return error
    message = error.message
    details: list[Any] = []
    for item in error.details:
        if not (isinstance(item, dict) and isinstance(item.get("field"), str)):
            details.append(item)
            continue
        native = item["field"]
        name = rename(native)
        details.append({**item, "field": name})
        if name != native:
            pattern = rf"(^Invalid request: |; ){re.escape(native)}(?=:)"
            message = re.sub(pattern, r"\g<1>" + name.replace("\\", r"\\"), message)
    return ApiError(error.status, error.code, message, details=details, headers=error.headers)
