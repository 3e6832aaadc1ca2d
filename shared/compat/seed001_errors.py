"""Seed 001's error answers: `{"success": false, "error": {"code", "message", "details"}}` with the
document's codes (the document names codes but shows no body; this follows its success/data envelope)."""

from __future__ import annotations

import azure.functions as func

from shared.compat.seed001_models import Seed001Error, Seed001ErrorBody
from shared.errors import ApiError
from shared.http.responses import json_response
from shared.models.errors import ErrorCode

# Native codes the document names differently; every other code passes through unchanged.
_CODES = {
    ErrorCode.NOT_FOUND.value: "GENERATION_NOT_FOUND",
    ErrorCode.INVALID_INPUT.value: ErrorCode.VALIDATION_ERROR.value,
}


def seed001_code(error: ApiError) -> str:
    return _CODES.get(error.code, error.code)


def render_seed001_error(error: ApiError) -> func.HttpResponse:
    body = Seed001Error(
        error=Seed001ErrorBody(code=seed001_code(error), message=error.message, details=error.details)
    )
    return json_response(body, status=error.status, headers=dict(error.headers))
