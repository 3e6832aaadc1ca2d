"""API keys over HTTP: the admin routes, keys stored only as a keyed hash, scopes, revocation, tenants."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from azure.cosmos import ContainerProxy

from tests.integration.conftest import create_key, unique_prompt, unique_tenant

pytestmark = pytest.mark.integration

ContainerFactory = Callable[[str], ContainerProxy]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/admin/api-keys"), ("GET", "/v1/admin/api-keys"), ("DELETE", "/v1/admin/api-keys/abc")],
)
@pytest.mark.parametrize("headers", [{}, {"X-Admin-Key": "wrong"}, {"X-API-Key": "local-dev-key"}])
def test_admin_routes_need_the_admin_key(
    anonymous: httpx.Client, method: str, path: str, headers: dict[str, str]
) -> None:
    response = anonymous.request(method, path, json={"tenantId": "x"}, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["x-request-id"]


def test_a_created_key_is_shown_once_and_stored_only_as_a_hash(
    admin: httpx.Client, cosmos_containers: ContainerFactory
) -> None:
    tenant = unique_tenant("acme")

    created = create_key(admin, tenant, name="ci", rateLimit=50)

    key = created["key"]
    assert key.startswith(f"igk_{created['id']}_")
    assert created["tenantId"] == tenant
    assert created["scopes"] == ["read:image-gen", "write:image-gen"]
    assert created["rateLimit"] == 50
    stored = cosmos_containers("api-keys").read_item(created["id"], partition_key=created["id"])
    assert stored["tenantId"] == tenant
    assert len(stored["keyHash"]) == 64
    assert key not in json.dumps(stored)
    listed = admin.get("/v1/admin/api-keys", params={"tenantId": tenant}).json()["data"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert created["id"] in {item["id"] for item in admin.get("/v1/admin/api-keys").json()["data"]}


def test_a_key_acts_for_its_tenant_and_another_tenants_job_is_404(
    anonymous: httpx.Client, api: httpx.Client, admin: httpx.Client, jobs_container: ContainerProxy
) -> None:
    tenant_a, tenant_b = unique_tenant("a"), unique_tenant("b")
    key_a, key_b = create_key(admin, tenant_a)["key"], create_key(admin, tenant_b)["key"]

    submitted = anonymous.post(
        "/v1/images/generations", json={"prompt": unique_prompt("tenant a")}, headers={"X-API-Key": key_a}
    )

    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    assert jobs_container.read_item(job_id, partition_key=tenant_a)["tenantId"] == tenant_a
    path = f"/v1/images/generations/{job_id}"
    assert anonymous.get(path, headers={"Authorization": f"Bearer {key_a}"}).status_code in (200, 202)
    foreign = anonymous.get(path, headers={"X-API-Key": key_b})
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "NOT_FOUND"
    assert api.get(path).status_code == 404  # the development tenant is another tenant too


def test_a_revoked_key_is_401(anonymous: httpx.Client, admin: httpx.Client) -> None:
    created = create_key(admin, unique_tenant("revoked"))
    headers = {"X-API-Key": created["key"]}
    assert anonymous.get("/v1/images/generations/none", headers=headers).status_code == 404

    revoked = admin.delete(f"/v1/admin/api-keys/{created['id']}")

    assert revoked.status_code == 200
    assert revoked.json()["revokedAt"] is not None
    response = anonymous.get("/v1/images/generations/none", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "UNAUTHORIZED",
        "message": "This API key has been revoked.",
        "details": None,
    }
    assert admin.delete("/v1/admin/api-keys/0000000000000000").status_code == 404


def test_a_tampered_key_is_401(anonymous: httpx.Client, admin: httpx.Client) -> None:
    key = create_key(admin, unique_tenant("tamper"))["key"]
    tampered = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")

    response = anonymous.get("/v1/images/generations/none", headers={"X-API-Key": tampered})

    assert response.status_code == 401


def test_a_read_only_key_cannot_submit(
    anonymous: httpx.Client, admin: httpx.Client, jobs_container: ContainerProxy
) -> None:
    tenant = unique_tenant("reader")
    key = create_key(admin, tenant, scopes=["read:image-gen"])["key"]

    response = anonymous.post("/v1/images/generations", json={"prompt": "no"}, headers={"X-API-Key": key})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    query = "SELECT * FROM c WHERE c.tenantId = @tenant"
    parameters: list[dict[str, object]] = [{"name": "@tenant", "value": tenant}]
    assert list(jobs_container.query_items(query, parameters=parameters, partition_key=tenant)) == []
    assert anonymous.get("/v1/images/generations/none", headers={"X-API-Key": key}).status_code == 404


def test_invalid_key_requests_are_400(admin: httpx.Client) -> None:
    response = admin.post("/v1/admin/api-keys", json={"tenantId": "bad/tenant"})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "tenantId"
