"""Typed exceptions: every error answer of the API becomes one, carrying the envelope's code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from imagegen._models import Job


class ImageGenError(Exception):
    """Base of every exception this package raises."""


class APIConnectionError(ImageGenError):
    """The API could not be reached (connection refused, DNS, TLS, a timeout)."""


class APIError(ImageGenError):
    """The API answered with an error: `status`, the envelope's `code`, `message` and `details`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequestError(APIError):
    """400: a field is missing or invalid (`details` names the fields)."""


class AuthenticationError(APIError):
    """401: no credentials, or an unknown, revoked or expired key or token."""


class InsufficientCreditsError(APIError):
    """402: the job costs more than the tenant's available credits."""


class PermissionDeniedError(APIError):
    """403: valid credentials without the scope the route needs."""


class NotFoundError(APIError):
    """404: an unknown job, image or preset (or another tenant's)."""


class ConflictError(APIError):
    """409: e.g. `JOB_NOT_CANCELABLE`, `IDEMPOTENCY_KEY_REUSED`."""


class UnsupportedMediaTypeError(APIError):
    """415: the body was neither JSON nor multipart."""


class RateLimitError(APIError):
    """429: the caller's rate limit is used up; `retry_after` says for how long."""


class ServiceUnavailableError(APIError):
    """503: the service could not take the request now (a queue or a token issuer unreachable)."""


class InternalServerError(APIError):
    """500 (or another 5xx): a bug on the service's side; `message` quotes the request id."""


class JobFailedError(ImageGenError):
    """The job ended `failed` or `canceled`; `code` is the job's error code (`CONTENT_POLICY`, ...)."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.code = job.error.code if job.error else job.status.upper()
        message = job.error.message if job.error else f"the job ended {job.status}"
        super().__init__(f"job {job.id} {job.status}: {self.code}: {message}")


class WaitTimeoutError(ImageGenError):
    """The job had not ended when the wait's timeout passed; `job` is its last state."""

    def __init__(self, job: Job, timeout: float) -> None:
        self.job = job
        self.timeout = timeout
        super().__init__(f"job {job.id} still {job.status} after {timeout:g} s")


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error answer; a body that is not the envelope still gives status and text."""
    code, message, details = f"HTTP_{response.status_code}", response.reason_phrase or "error", None
    try:
        envelope = response.json()
    except ValueError:
        envelope = None
    if isinstance(envelope, dict) and isinstance(envelope.get("error"), dict):
        body = envelope["error"]
        code = str(body.get("code") or code)
        message = str(body.get("message") or message)
        details = body.get("details")
    elif response.text:
        message = response.text[:500]
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = InternalServerError if response.status_code >= 500 else APIError
    return cls(
        response.status_code,
        code,
        message,
        details=details,
        request_id=response.headers.get("x-request-id"),
        retry_after=retry_after_seconds(response),
    )
