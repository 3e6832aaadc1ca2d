"""The principal App Service Authentication ("Easy Auth") forwards in `X-MS-CLIENT-PRINCIPAL`.

When Easy Auth fronts the app it validates the caller's token itself, strips any client-sent
`X-MS-CLIENT-*` headers and injects this one: base64 JSON `{"auth_typ", "claims": [{"typ", "val"}],
"name_typ", "role_typ"}`. It is trusted only when TRUST_APP_SERVICE_AUTH says Easy Auth is in front.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

# Easy Auth reports some claims under their WS-Federation URIs; the token names are what settings use.
_SHORT_NAMES = {
    "http://schemas.microsoft.com/identity/claims/tenantid": "tid",
    "http://schemas.microsoft.com/identity/claims/objectidentifier": "oid",
    "http://schemas.microsoft.com/identity/claims/scope": "scp",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "sub",
}
_DEFAULT_ROLE_TYPE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"


class PrincipalHeaderError(ValueError):
    """The header is not base64 JSON of the documented shape."""


def claims_from_principal_header(header: str) -> dict[str, Any]:
    """The header's claims as a token's would read: single values as strings, `roles` as a list."""
    try:
        payload = json.loads(base64.b64decode(header, validate=False))
    except (binascii.Error, ValueError) as exc:
        raise PrincipalHeaderError("X-MS-CLIENT-PRINCIPAL is not base64 JSON.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("claims"), list):
        raise PrincipalHeaderError("X-MS-CLIENT-PRINCIPAL has no claims.")
    role_type = payload.get("role_typ") or _DEFAULT_ROLE_TYPE
    claims: dict[str, Any] = {}
    roles: list[str] = []
    for claim in payload["claims"]:
        if not isinstance(claim, dict) or not isinstance(claim.get("typ"), str):
            continue
        kind: str = claim["typ"]
        value = str(claim.get("val", ""))
        if kind in (role_type, "roles"):
            roles.append(value)
            continue
        claims.setdefault(_SHORT_NAMES.get(kind, kind), value)
    if roles:
        claims["roles"] = roles
    return claims
