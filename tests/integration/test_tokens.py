"""OIDC bearer tokens and App Service principals: 401 for a bad token, 403 for a missing scope."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from azure.cosmos import ContainerProxy
from cryptography.hazmat.primitives.asymmetric import rsa

from devtools.oidc import DEV_AUDIENCE, Issuer
from tests.integration.conftest import unique_prompt, unique_tenant

pytestmark = pytest.mark.integration

GENERATIONS = "/v1/images/generations"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_with_the_write_scope_submits_for_its_tenant(
    anonymous: httpx.Client, oidc_issuer: Issuer, jobs_container: ContainerProxy
) -> None:
    tenant = unique_tenant("org")
    token = oidc_issuer.token(tid=tenant, scp="write:image-gen")

    response = anonymous.post(GENERATIONS, json={"prompt": unique_prompt("token")}, headers=_bearer(token))

    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert jobs_container.read_item(job_id, partition_key=tenant)["tenantId"] == tenant
    assert anonymous.get(f"{GENERATIONS}/{job_id}", headers=_bearer(token)).status_code in (200, 202)
    other = oidc_issuer.token(tid=unique_tenant("other"), scp="write:image-gen")
    assert anonymous.get(f"{GENERATIONS}/{job_id}", headers=_bearer(other)).status_code == 404


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"expires_in": -300}, "expired"),
        ({"aud": "api://someone-else"}, "audience"),
        ({"iss": "https://evil.example.com"}, "issuer"),
        ({"signing_key": rsa.generate_private_key(public_exponent=65537, key_size=2048)}, "invalid"),
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "forged-signature"],
)
def test_a_bad_token_is_401(
    anonymous: httpx.Client, oidc_issuer: Issuer, claims: dict[str, Any], message: str
) -> None:
    token = oidc_issuer.token(tid="org-1", scp="write:image-gen", **claims)

    response = anonymous.post(GENERATIONS, json={"prompt": "x"}, headers=_bearer(token))

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert message in error["message"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_without_the_write_scope_is_403_on_submit_and_may_read(
    anonymous: httpx.Client, oidc_issuer: Issuer
) -> None:
    reader = oidc_issuer.token(tid="org-reader", scp="read:image-gen")

    submit = anonymous.post(GENERATIONS, json={"prompt": "x"}, headers=_bearer(reader))
    read = anonymous.get(f"{GENERATIONS}/unknown", headers=_bearer(reader))

    assert submit.status_code == 403
    assert submit.json()["error"]["code"] == "FORBIDDEN"
    assert "write:image-gen" in submit.json()["error"]["message"]
    assert read.status_code == 404


def test_a_token_without_any_scope_is_403_even_to_read(anonymous: httpx.Client, oidc_issuer: Issuer) -> None:
    token = oidc_issuer.token(tid="org-none")

    response = anonymous.get(f"{GENERATIONS}/unknown", headers=_bearer(token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def test_an_app_role_grants_the_scope_and_a_token_without_a_tenant_is_403(
    anonymous: httpx.Client, oidc_issuer: Issuer
) -> None:
    with_role = oidc_issuer.token(tid=unique_tenant("org"), roles=["write:image-gen"])
    without_tenant = oidc_issuer.token(scp="write:image-gen")

    assert anonymous.post(GENERATIONS, json={"prompt": "role"}, headers=_bearer(with_role)).status_code == 202
    response = anonymous.post(GENERATIONS, json={"prompt": "x"}, headers=_bearer(without_tenant))
    assert response.status_code == 403
    assert "tid" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "tenant", ["tenant-a\n", "tenant-a\r\n", " tenant-a", "../tenant-a", "tenant/a", "", "t" * 129]
)
def test_a_tenant_claim_that_is_not_a_tenant_id_is_403_and_stores_nothing(
    anonymous: httpx.Client, oidc_issuer: Issuer, cosmos_containers: Any, tenant: str
) -> None:
    token = oidc_issuer.token(tid=tenant, scp="write:image-gen")
    prompt = unique_prompt("hostile tenant")

    response = anonymous.post(GENERATIONS, json={"prompt": prompt}, headers=_bearer(token))

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "FORBIDDEN"
    query = "SELECT VALUE COUNT(1) FROM c WHERE c.spec.prompt = @prompt"
    found = cosmos_containers("jobs").query_items(
        query, parameters=[{"name": "@prompt", "value": prompt}], enable_cross_partition_query=True
    )
    assert sum(int(count) for count in found) == 0


def test_an_app_service_principal_is_trusted_when_the_setting_says_so(
    anonymous: httpx.Client, jobs_container: ContainerProxy
) -> None:
    tenant = unique_tenant("easyauth")
    principal = {
        "auth_typ": "aad",
        "name_typ": "name",
        "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
        "claims": [
            {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": tenant},
            {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": "user-1"},
            {"typ": "http://schemas.microsoft.com/identity/claims/scope", "val": "write:image-gen"},
        ],
    }
    header = base64.b64encode(json.dumps(principal).encode()).decode()

    response = anonymous.post(
        GENERATIONS, json={"prompt": unique_prompt("easy auth")}, headers={"X-MS-CLIENT-PRINCIPAL": header}
    )

    assert response.status_code == 202, response.text
    assert jobs_container.read_item(response.json()["id"], partition_key=tenant)["tenantId"] == tenant
    garbled = anonymous.get(f"{GENERATIONS}/x", headers={"X-MS-CLIENT-PRINCIPAL": "not base64 json"})
    assert garbled.status_code == 401


def test_signing_keys_are_cached_and_an_unknown_key_id_is_401(
    anonymous: httpx.Client, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token(tid="org-cache", scp="read:image-gen")
    assert anonymous.get(f"{GENERATIONS}/x", headers=_bearer(token)).status_code == 404
    fetched = oidc_issuer.jwks_requests

    for _ in range(3):
        assert anonymous.get(f"{GENERATIONS}/x", headers=_bearer(token)).status_code == 404
    assert oidc_issuer.jwks_requests == fetched >= 1
    unknown_kid = jwt.encode(
        {
            "iss": oidc_issuer.url,
            "aud": DEV_AUDIENCE,
            "sub": "s",
            "tid": "org-cache",
            "exp": int(time.time()) + 60,
        },
        oidc_issuer.private_key,
        algorithm="RS256",
        headers={"kid": "rotated-away"},
    )
    response = anonymous.get(f"{GENERATIONS}/x", headers=_bearer(unknown_kid))

    assert oidc_issuer.jwks_requests - fetched <= 1  # at most one refetch, for the unknown kid
    assert response.status_code == 401
    assert "does not publish" in response.json()["error"]["message"]
