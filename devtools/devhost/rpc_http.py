"""HTTP requests to RpcHttp messages and back, by the Functions host's rules.

What a Python function sees of a request is what the host puts into RpcHttp (the Python worker declares
RawHttpBodyBytes and RpcHttpBodyOnly, and not the nullable-dictionary capability):

- header names lower-cased; a header sent several times arrives once, its values joined with `,`;
- query keys (case-insensitive) whose values are joined with `,`; a key whose joined value is empty is
  dropped;
- the body, as bytes, only when the request has `Content-Length` > 0: a chunked body arrives empty;
- the matched route parameters; the caller's identities (the function-key identity when a key was
  presented, else one anonymous identity).

Responses go back the other way: status, headers, cookies as `Set-Cookie`, body bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from devtools.devhost.protocol import protos

NAME_CLAIM_TYPE = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_CLAIM_TYPE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
AUTH_LEVEL_CLAIM = "http://schemas.microsoft.com/2017/07/functions/claims/authlevel"
KEY_ID_CLAIM = "http://schemas.microsoft.com/2017/07/functions/claims/keyid"
KEY_AUTHENTICATION_TYPE = "WebJobsAuthLevel"

# Framing headers: the server sets them for the body it actually sends.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class KeyIdentity:
    """The key a caller authenticated with: its auth level (`Function`, `Admin`, `System`) and name."""

    level: str
    key_name: str


def joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Values of case-insensitively equal names joined with `,`, under the first spelling of the name."""
    spelled: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        key = name.lower()
        spelled.setdefault(key, name)
        values.setdefault(key, []).append(value)
    return {spelled[key]: ",".join(items) for key, items in values.items()}


def rpc_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in joined(pairs).items()}


def rpc_query(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in joined(pairs).items() if value}


def rpc_identities(identity: KeyIdentity | None) -> list[Any]:
    if identity is None:
        return [
            protos.RpcClaimsIdentity(
                name_claim_type=protos.NullableString(value=NAME_CLAIM_TYPE),
                role_claim_type=protos.NullableString(value=ROLE_CLAIM_TYPE),
            )
        ]
    return [
        protos.RpcClaimsIdentity(
            authentication_type=protos.NullableString(value=KEY_AUTHENTICATION_TYPE),
            name_claim_type=protos.NullableString(value=NAME_CLAIM_TYPE),
            role_claim_type=protos.NullableString(value=ROLE_CLAIM_TYPE),
            claims=[
                protos.RpcClaim(type=AUTH_LEVEL_CLAIM, value=identity.level),
                protos.RpcClaim(type=KEY_ID_CLAIM, value=identity.key_name),
            ],
        )
    ]


async def request_to_rpc(
    request: web.Request, route_params: Mapping[str, str], identity: KeyIdentity | None
) -> Any:
    """The TypedData the host sends as an HTTP trigger's input."""
    body = await request.read()
    http = protos.RpcHttp(
        method=request.method,
        url=f"{request.scheme}://{request.host}{request.raw_path}",
        headers=rpc_headers(request.headers.items()),
        query=rpc_query(request.query.items()),
        params={name: value for name, value in route_params.items() if value is not None},
        identities=rpc_identities(identity),
    )
    if (request.content_length or 0) > 0:
        http.body.CopyFrom(protos.TypedData(bytes=body))
    return protos.TypedData(http=http)


def rpc_to_response(value: Any) -> web.Response:
    """The HTTP response for an HTTP function's return value (a TypedData, or None)."""
    if value is None:
        return web.Response(status=204)
    kind = value.WhichOneof("data")
    if kind != "http":
        text = value.string if kind == "string" else ""
        return web.Response(status=200, text=text)
    http = value.http
    headers: CIMultiDict[str] = CIMultiDict(
        (name, header) for name, header in http.headers.items() if name.lower() not in _NOT_FORWARDED
    )
    for cookie in http.cookies:
        headers.add("Set-Cookie", _set_cookie(cookie))
    return web.Response(status=int(http.status_code or 200), body=_body_bytes(http.body), headers=headers)


def _body_bytes(body: Any) -> bytes:
    kind = body.WhichOneof("data")
    if kind in ("bytes", "stream"):
        return bytes(getattr(body, kind))
    if kind in ("string", "json"):
        return str(getattr(body, kind)).encode()
    return b""


def _set_cookie(cookie: Any) -> str:
    parts = [f"{cookie.name}={cookie.value}"]
    if cookie.HasField("domain"):
        parts.append(f"domain={cookie.domain.value}")
    if cookie.HasField("path"):
        parts.append(f"path={cookie.path.value}")
    if cookie.HasField("expires"):
        expires = datetime.fromtimestamp(cookie.expires.value.seconds, UTC)
        parts.append(f"expires={expires:%a, %d %b %Y %H:%M:%S} GMT")
    if cookie.HasField("max_age"):
        parts.append(f"max-age={int(cookie.max_age.value)}")
    if cookie.HasField("secure") and cookie.secure.value:
        parts.append("secure")
    same_site = protos.RpcHttpCookie.SameSite.Name(cookie.same_site)
    if same_site != "None":
        parts.append("samesite=" + ("none" if same_site == "ExplicitNone" else same_site.lower()))
    if cookie.HasField("http_only") and cookie.http_only.value:
        parts.append("httponly")
    return "; ".join(parts)
