"""Who is calling, and may they: API keys, OIDC bearer tokens and App Service principals, each mapped to
a tenant and scopes, then counted against the caller's rate limit.

Credentials, in the order they are tried:
- `X-MS-CLIENT-PRINCIPAL` (only with TRUST_APP_SERVICE_AUTH): the principal App Service Authentication
  validated; tenant from OIDC_TENANT_CLAIM, scopes from `scp` and roles.
- `Authorization: Bearer <JWT>` (with OIDC_ISSUER and OIDC_AUDIENCE): an issuer-signed token; tenant from
  OIDC_TENANT_CLAIM, scopes from `scp`/`scope`/`roles` (OIDC_READ_SCOPE, OIDC_WRITE_SCOPE).
- An API key in `X-API-Key` or `Authorization: Bearer`: a stored key (`igk_...`), with the tenant, scopes
  and rate limit stored on it, or the development key DEV_API_KEY.

Missing, unknown, expired or revoked credentials are `401 UNAUTHORIZED`; a valid caller without the scope a
route needs is `403 FORBIDDEN`; past its rate limit `429 RATE_LIMIT_EXCEEDED`. Every answer after a caller
is identified carries the `X-RateLimit-*` headers.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from shared.app_context import AppContext
from shared.auth.app_service import PrincipalHeaderError, claims_from_principal_header
from shared.auth.keys import key_id_of, key_matches
from shared.auth.tokens import IssuerUnavailableError, TokenError, looks_like_jwt, token_scopes, verify_token
from shared.errors import ApiError
from shared.http.handler import add_response_headers
from shared.ids import is_tenant_id
from shared.models.auth import Scope
from shared.models.errors import ErrorCode

logger = logging.getLogger(__name__)

READ_SCOPE = Scope.READ
WRITE_SCOPE = Scope.WRITE


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the tenant every document it touches is partitioned by."""

    tenant_id: str
    subject: str
    scopes: frozenset[str] = frozenset()
    rate_limit: int | None = None


def presented_key(req: func.HttpRequest) -> str | None:
    key = req.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = (req.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def unauthorized(message: str, *, invalid: bool = True) -> ApiError:
    challenge = 'Bearer realm="image-api"' + (', error="invalid_token"' if invalid else "")
    return ApiError(401, ErrorCode.UNAUTHORIZED, message, headers={"WWW-Authenticate": challenge})


async def authenticate(req: func.HttpRequest, ctx: AppContext, *, scope: Scope = READ_SCOPE) -> Principal:
    """The caller behind the request, allowed `scope` and within its rate limit; else 401, 403 or 429."""
    principal = await _identify(req, ctx)
    state = await ctx.rate_limiter.hit(
        principal.subject, principal.rate_limit or ctx.settings.rate_limit_per_window
    )
    add_response_headers(state.headers())
    if not state.allowed:
        raise ApiError(
            429,
            ErrorCode.RATE_LIMIT_EXCEEDED,
            f"Rate limit of {state.limit} requests exceeded; retry in {state.reset_seconds} s.",
            headers={"Retry-After": str(state.reset_seconds)},
        )
    if scope not in principal.scopes:
        raise ApiError(403, ErrorCode.FORBIDDEN, f"The credentials lack the {scope.value!r} scope.")
    return principal


def require_admin(req: func.HttpRequest, ctx: AppContext) -> None:
    """Admin routes: the ADMIN_API_KEY in `X-Admin-Key` or `Authorization: Bearer`, else 401."""
    expected = ctx.settings.admin_api_key.get_secret_value() if ctx.settings.admin_api_key else None
    presented = (req.headers.get("x-admin-key") or "").strip() or presented_key(req)
    if not presented:
        raise unauthorized("Missing admin key: send it in X-Admin-Key.", invalid=False)
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise unauthorized("Invalid admin key.")


async def _identify(req: func.HttpRequest, ctx: AppContext) -> Principal:
    settings = ctx.settings
    if settings.trust_app_service_auth and req.headers.get("x-ms-client-principal"):
        try:
            claims = claims_from_principal_header(req.headers["x-ms-client-principal"])
        except PrincipalHeaderError as exc:
            raise unauthorized(str(exc)) from exc
        subject = claims.get("oid") or claims.get("sub") or req.headers.get("x-ms-client-principal-id")
        return _token_principal(ctx, claims, subject, kind="easyauth")
    credential = presented_key(req)
    if credential is None:
        raise unauthorized(
            "Missing credentials: send an API key in X-API-Key or a bearer token.", invalid=False
        )
    if looks_like_jwt(credential) and not req.headers.get("x-api-key"):
        return await _jwt_principal(ctx, credential)
    return await _key_principal(ctx, credential)


async def _jwt_principal(ctx: AppContext, token: str) -> Principal:
    settings = ctx.settings
    if not (settings.oidc_issuer and settings.oidc_audience):
        raise unauthorized("Bearer tokens are not accepted here; use an API key.")
    try:
        claims = await verify_token(token, settings, ctx.jwks)
    except TokenError as exc:
        raise unauthorized(str(exc)) from exc
    except IssuerUnavailableError as exc:
        raise ApiError(
            503, ErrorCode.SERVICE_UNAVAILABLE, "The token issuer's signing keys are unreachable."
        ) from exc
    return _token_principal(ctx, claims, claims.get("sub"), kind="token")


def _token_principal(ctx: AppContext, claims: dict[str, Any], subject: Any, *, kind: str) -> Principal:
    settings = ctx.settings
    tenant = claims.get(settings.oidc_tenant_claim)
    if not is_tenant_id(tenant):
        raise ApiError(
            403,
            ErrorCode.FORBIDDEN,
            f"The token carries no usable tenant claim {settings.oidc_tenant_claim!r}.",
        )
    if not isinstance(subject, str) or not subject:
        raise unauthorized("The token names no subject.")
    names = token_scopes(claims)
    scopes = set()
    if settings.oidc_write_scope in names:
        scopes |= {WRITE_SCOPE, READ_SCOPE}
    if settings.oidc_read_scope in names:
        scopes.add(READ_SCOPE)
    return Principal(tenant_id=tenant, subject=f"{kind}:{tenant}:{subject}", scopes=frozenset(scopes))


async def _key_principal(ctx: AppContext, key: str) -> Principal:
    settings = ctx.settings
    dev_key = settings.dev_api_key.get_secret_value() if settings.dev_api_key else None
    if dev_key and hmac.compare_digest(key.encode(), dev_key.encode()):
        return Principal(
            tenant_id=settings.dev_tenant_id,
            subject="dev-key",
            scopes=frozenset({READ_SCOPE, WRITE_SCOPE}),
            rate_limit=settings.dev_api_key_rate_limit,
        )
    key_id = key_id_of(key)
    secret = settings.api_key_hash_secret.get_secret_value() if settings.api_key_hash_secret else None
    if key_id is None or secret is None:
        raise unauthorized("Invalid API key.")
    document = await ctx.api_keys.get(key_id)
    if document is None or not key_matches(secret, key, document.key_hash):
        raise unauthorized("Invalid API key.")
    if document.revoked_at is not None:
        raise unauthorized("This API key has been revoked.")
    scopes = {Scope(s) for s in document.scopes}
    if WRITE_SCOPE in scopes:
        scopes.add(READ_SCOPE)
    return Principal(
        tenant_id=document.tenant_id,
        subject=f"key:{document.id}",
        scopes=frozenset(scopes),
        rate_limit=document.rate_limit,
    )
