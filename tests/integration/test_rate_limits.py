"""Rate limits: X-RateLimit-* on every authenticated answer, 429 past the limit, the counter in Cosmos DB."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from azure.cosmos import ContainerProxy

from devtools.oidc import Issuer
from tests.integration.conftest import create_key, unique_tenant

pytestmark = pytest.mark.integration


def test_a_key_past_its_limit_is_429_and_the_count_is_kept_in_the_store(
    anonymous: httpx.Client, admin: httpx.Client, cosmos_containers: Callable[[str], ContainerProxy]
) -> None:
    created = create_key(admin, unique_tenant("limited"), rateLimit=3)
    headers = {"X-API-Key": created["key"]}

    answers = [anonymous.get("/v1/images/generations/none", headers=headers) for _ in range(4)]

    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    assert all(0 < int(a.headers["X-RateLimit-Reset"]) <= 3600 for a in answers)
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # Another instance would see the same count: it lives in the rate-limits container, not in memory.
    counters = list(
        cosmos_containers("rate-limits").query_items(
            "SELECT * FROM c WHERE c.subject = @subject",
            parameters=[{"name": "@subject", "value": f"key:{created['id']}"}],
            enable_cross_partition_query=True,
        )
    )
    assert [counter["count"] for counter in counters] == [3]
    assert counters[0]["ttl"] > 3600


def test_successful_answers_carry_the_headers_too(api: httpx.Client) -> None:
    response = api.post("/v1/images/generations", json={"prompt": "headers"})

    assert response.status_code == 202
    assert int(response.headers["X-RateLimit-Limit"]) == 100000
    assert int(response.headers["X-RateLimit-Remaining"]) < 100000


def test_token_callers_are_limited_per_subject(anonymous: httpx.Client, oidc_issuer: Issuer) -> None:
    first = oidc_issuer.token(tid="org-rl", sub="alice", scp="read:image-gen")
    second = oidc_issuer.token(tid="org-rl", sub="bob", scp="read:image-gen")

    a1 = anonymous.get("/v1/images/generations/none", headers={"Authorization": f"Bearer {first}"})
    a2 = anonymous.get("/v1/images/generations/none", headers={"Authorization": f"Bearer {first}"})
    b1 = anonymous.get("/v1/images/generations/none", headers={"Authorization": f"Bearer {second}"})

    assert a1.headers["X-RateLimit-Limit"] == "100"
    assert int(a1.headers["X-RateLimit-Remaining"]) - int(a2.headers["X-RateLimit-Remaining"]) == 1
    assert b1.headers["X-RateLimit-Remaining"] == "99"


def test_unauthenticated_answers_carry_no_rate_limit_headers(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/images/generations/none")

    assert response.status_code == 401
    assert "X-RateLimit-Limit" not in response.headers
