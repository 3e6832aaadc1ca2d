"""The one exception type that becomes an HTTP error answer."""

from __future__ import annotations

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
