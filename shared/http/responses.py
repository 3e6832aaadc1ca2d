"""JSON answers and the error envelope."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
from pydantic import BaseModel

from shared.errors import ApiError
from shared.models.errors import ErrorBody, ErrorEnvelope


def json_response(
    payload: BaseModel | dict[str, Any] | list[Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> func.HttpResponse:
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json(by_alias=True, exclude_none=False)
    else:
        body = json.dumps(payload, separators=(",", ":"), default=str)
    return func.HttpResponse(
        body, status_code=status, headers=headers, mimetype="application/json", charset="utf-8"
    )


def error_response(error: ApiError) -> func.HttpResponse:
    envelope = ErrorEnvelope(error=ErrorBody(code=error.code, message=error.message, details=error.details))
    return json_response(envelope, status=error.status, headers=dict(error.headers))
