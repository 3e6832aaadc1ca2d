"""OIDC bearer tokens: signing keys from the issuer's JWKS (cached), then signature, issuer, audience
and expiry checked by PyJWT.

The JWKS URL is OIDC_JWKS_URL, or discovered from `<OIDC_ISSUER>/.well-known/openid-configuration`.
Keys are reused for OIDC_JWKS_CACHE_SECONDS; a token signed with an unknown `kid` (the issuer rotated its
keys) refetches them, at most once per `_MIN_REFETCH_SECONDS` so that forged kids cannot flood the issuer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from shared.settings import Settings

if TYPE_CHECKING:
    import jwt

logger = logging.getLogger(__name__)

# Asymmetric algorithms only: an HS256 token "signed" with the public key must not verify.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
_LEEWAY_SECONDS = 30
_MIN_REFETCH_SECONDS = 30
_FETCH_TIMEOUT_SECONDS = 5


class TokenError(Exception):
    """The token is not acceptable (bad signature, expired, wrong issuer or audience, malformed)."""


class IssuerUnavailableError(Exception):
    """The issuer's signing keys could not be fetched."""


def looks_like_jwt(token: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and all(parts) and token.startswith("eyJ")


class JwksCache:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def signing_key(self, kid: str | None) -> jwt.PyJWK:
        now = time.monotonic()
        age = None if self._fetched_at is None else now - self._fetched_at
        unknown = kid not in self._keys if kid else not self._keys
        if (
            age is None
            or age > self._settings.oidc_jwks_cache_seconds
            or (unknown and age > _MIN_REFETCH_SECONDS)
        ):
            async with self._lock:
                if self._fetched_at is None or self._fetched_at <= now:  # nobody refreshed while we waited
                    await self._refresh()
        if kid is None:
            if len(self._keys) == 1:
                return next(iter(self._keys.values()))
            raise TokenError("The token names no signing key (kid).")
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenError("The token is signed with a key the issuer does not publish.") from None

    async def _refresh(self) -> None:
        try:
            self._keys = await self._fetch()
        except IssuerUnavailableError:
            if not self._keys:
                raise
            # Keys the issuer published before still verify its tokens; try again after the back-off.
            logger.warning("Keeping %d cached OIDC signing keys after a failed refresh", len(self._keys))
        self._fetched_at = time.monotonic()

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        import jwt  # PyJWT and cryptography load with the first bearer token, not on every cold start

        timeout = aiohttp.ClientTimeout(total=_FETCH_TIMEOUT_SECONDS)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                url = self._settings.oidc_jwks_url or await self._discover(session)
                async with session.get(url) as response:
                    response.raise_for_status()
                    document = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            logger.warning("Could not fetch the OIDC signing keys", exc_info=True)
            raise IssuerUnavailableError(str(exc)) from exc
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []):
            if entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK.from_dict(entry)
            except jwt.PyJWTError:
                logger.info("Skipping an unusable JWKS entry (kid %s)", entry.get("kid"))
                continue
            keys[entry.get("kid") or ""] = key
        logger.info("Fetched %d OIDC signing keys", len(keys))
        return keys

    async def _discover(self, session: aiohttp.ClientSession) -> str:
        issuer = (self._settings.oidc_issuer or "").rstrip("/")
        async with session.get(f"{issuer}/.well-known/openid-configuration") as response:
            response.raise_for_status()
            configuration = await response.json(content_type=None)
        return str(configuration["jwks_uri"])


async def verify_token(token: str, settings: Settings, jwks: JwksCache) -> dict[str, Any]:
    """The token's claims once its signature, issuer, audience and expiry are checked."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError("The bearer token is malformed.") from exc
    if header.get("alg") not in ALGORITHMS:
        raise TokenError("The token's signing algorithm is not accepted.")
    key = await jwks.signing_key(header.get("kid"))
    try:
        return jwt.decode(
            token,
            key=key.key,
            algorithms=ALGORITHMS,
            audience=settings.oidc_audience,
            issuer=settings.oidc_issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("The token has expired.") from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenError("The token is not issued for this API (audience).") from exc
    except jwt.InvalidIssuerError as exc:
        raise TokenError("The token is not from the trusted issuer.") from exc
    except jwt.PyJWTError as exc:
        raise TokenError(f"The token is invalid: {exc}.") from exc


def token_scopes(claims: dict[str, Any]) -> set[str]:
    """Delegated scopes (`scp` in Entra ID, `scope` elsewhere; space-separated) and app roles (`roles`)."""
    names: set[str] = set()
    for claim in ("scp", "scope"):
        value = claims.get(claim)
        if isinstance(value, str):
            names.update(value.split())
        elif isinstance(value, list):
            names.update(str(item) for item in value)
    roles = claims.get("roles")
    if isinstance(roles, list):
        names.update(str(role) for role in roles)
    return names
