"""Verifying webhook deliveries (Standard Webhooks): `verify(body, headers, secret)` → the event.

A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (one or more
space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`); the key is the tenant's secret
from `GET /v1/webhooks/secret`, `whsec_` + base64 key bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from imagegen._errors import ImageGenError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(ImageGenError):
    """The delivery is not signed with the secret, is malformed, or its timestamp is too far off."""


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise WebhookVerificationError("the secret is not `whsec_` + base64") from exc


def sign(secret: str, webhook_id: str, timestamp: int, body: str | bytes) -> str:
    """The `webhook-signature` value of a delivery (`v1,<base64>`)."""
    payload = body if isinstance(body, bytes) else body.encode()
    message = f"{webhook_id}.{timestamp}.".encode() + payload
    return "v1," + base64.b64encode(hmac.new(_key(secret), message, hashlib.sha256).digest()).decode()


def verify(
    body: str | bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The delivered event (decoded JSON) once its signature and timestamp are checked.

    `body` must be the raw body as received (re-serialized JSON will not verify); header names are
    matched case-insensitively. Raises `WebhookVerificationError`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        webhook_id = lowered["webhook-id"]
        timestamp_text = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as exc:
        raise WebhookVerificationError(f"missing header {exc.args[0]}") from None
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(
            "webhook-timestamp is too far from now (a replayed or delayed delivery)"
        )
    expected = sign(secret, webhook_id, timestamp, body).partition(",")[2]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            payload = body.decode() if isinstance(body, bytes) else body
            event: dict[str, Any] = json.loads(payload)
            return event
    raise WebhookVerificationError("no signature matches the secret")
