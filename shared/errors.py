"""The one exception type that becomes an HTTP error answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from shared.models.errors import ErrorCode


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
