"""Who is calling: an API key in `X-API-Key` or `Authorization: Bearer`, mapped to a tenant."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import azure.functions as func

from shared.app_context import AppContext
from shared.errors import ApiError
from shared.models.errors import ErrorCode


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the tenant every document it touches is partitioned by."""

    tenant_id: str
    subject: str
    scopes: frozenset[str] = frozenset()


def presented_key(req: func.HttpRequest) -> str | None:
    key = req.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = (req.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authenticate(req: func.HttpRequest, ctx: AppContext) -> Principal:
    """The caller behind the request, or a 401 in the envelope."""
    settings = ctx.settings
    key = presented_key(req)
    if key is None:
        raise ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            "Missing API key: send it in X-API-Key or Authorization: Bearer.",
            headers={"WWW-Authenticate": 'Bearer realm="image-api"'},
        )
    expected = settings.dev_api_key.get_secret_value() if settings.dev_api_key else None
    if expected and hmac.compare_digest(key.encode(), expected.encode()):
        return Principal(tenant_id=settings.dev_tenant_id, subject="dev-key")
    raise ApiError(
        401,
        ErrorCode.UNAUTHORIZED,
        "Invalid API key.",
        headers={"WWW-Authenticate": 'Bearer realm="image-api", error="invalid_token"'},
    )
