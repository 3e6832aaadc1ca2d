"""The error envelope every route answers with: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from shared.models.common import ApiModel


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    INVALID_INPUT = "INVALID_INPUT"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    NOT_FOUND = "NOT_FOUND"
    GONE = "GONE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    CONFLICT = "CONFLICT"
    JOB_NOT_CANCELABLE = "JOB_NOT_CANCELABLE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # Terminal job failures (stored on the job, not HTTP answers).
    CONTENT_POLICY = "CONTENT_POLICY"
    NO_IMAGE = "NO_IMAGE"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    PROCESSING_FAILED = "PROCESSING_FAILED"
    TIMEOUT = "TIMEOUT"
    QUOTA_TIMEOUT = "QUOTA_TIMEOUT"
    CANCELED = "CANCELED"


class ErrorBody(ApiModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(ApiModel):
    error: ErrorBody
