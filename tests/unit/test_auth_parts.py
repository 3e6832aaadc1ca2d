"""The pure parts of auth: key format and keyed hash, App Service principals, token scopes."""

from __future__ import annotations

import base64
import json

import pytest

from shared.auth.app_service import PrincipalHeaderError, claims_from_principal_header
from shared.auth.keys import hash_key, key_id_of, key_matches, new_key
from shared.auth.tokens import looks_like_jwt, token_scopes


def test_a_new_key_carries_its_id_and_only_its_keyed_hash_matches() -> None:
    key_id, key = new_key()

    assert key_id_of(key) == key_id
    stored = hash_key("server-secret", key)
    assert key_matches("server-secret", key, stored)
    assert not key_matches("another-secret", key, stored)
    assert not key_matches("server-secret", key + "x", stored)
    assert key not in stored


@pytest.mark.parametrize("presented", ["local-dev-key", "igk_short_x", "igk_0123456789abcdef_", "x" * 80])
def test_keys_not_in_our_format_have_no_id(presented: str) -> None:
    assert key_id_of(presented) is None


def _header(payload: object) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_an_app_service_principal_reads_like_token_claims() -> None:
    header = _header(
        {
            "auth_typ": "aad",
            "role_typ": "roles",
            "claims": [
                {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": "org-1"},
                {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": "oid-1"},
                {"typ": "roles", "val": "write:image-gen"},
                {"typ": "roles", "val": "admin"},
            ],
        }
    )

    claims = claims_from_principal_header(header)

    assert claims == {"tid": "org-1", "oid": "oid-1", "roles": ["write:image-gen", "admin"]}
    assert token_scopes(claims) == {"write:image-gen", "admin"}


@pytest.mark.parametrize("header", ["%%%", _header(["not", "an", "object"]), _header({"claims": "x"})])
def test_a_malformed_principal_header_is_refused(header: str) -> None:
    with pytest.raises(PrincipalHeaderError):
        claims_from_principal_header(header)


def test_scopes_come_from_scp_scope_and_roles() -> None:
    claims = {"scp": "read:image-gen openid", "scope": "write:image-gen", "roles": ["Images.Admin"]}

    assert token_scopes(claims) == {"read:image-gen", "openid", "write:image-gen", "Images.Admin"}


def test_jwts_are_told_apart_from_api_keys() -> None:
    assert looks_like_jwt("eyJhbGciOi.eyJzdWIiOi.c2ln")
    assert not looks_like_jwt("igk_0123456789abcdef_secret")
    assert not looks_like_jwt("local-dev-key")
