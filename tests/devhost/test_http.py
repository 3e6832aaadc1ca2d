"""HTTP triggers: routes, methods, auth levels, sync functions off the event loop, failures."""

from __future__ import annotations

import httpx
import pytest

from tests.devhost.conftest import FUNCTION_KEY, MASTER_KEY, SampleHost


def test_route_parameters_query_body_and_headers_reach_the_function(sample_host: SampleHost) -> None:
    response = httpx.post(
        f"{sample_host.url}/api/hello/world?x=1", content=b"payload", headers={"x-custom": "yes"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["method"] == "POST"
    assert body["name"] == "world"
    assert body["query"] == {"x": "1"}
    assert body["body"] == "payload"
    assert body["header"] == "yes"


def test_settings_come_from_local_settings(sample_host: SampleHost) -> None:
    assert httpx.get(f"{sample_host.url}/api/hello/x").json()["setting"] == "yes"


def test_sync_functions_run_on_the_thread_pool(sample_host: SampleHost) -> None:
    assert httpx.get(f"{sample_host.url}/api/hello/x").json()["thread"].startswith("devhost-fn")


def test_literal_segments_match_case_insensitively(sample_host: SampleHost) -> None:
    assert httpx.get(f"{sample_host.url}/API/Hello/x").status_code == 200


def test_route_constraints_and_unknown_routes(sample_host: SampleHost) -> None:
    matched = httpx.get(f"{sample_host.url}/api/items/42")
    assert matched.status_code == 204
    assert matched.headers["x-item"] == "42"
    assert httpx.get(f"{sample_host.url}/api/items/abc").status_code == 404
    assert httpx.get(f"{sample_host.url}/api/nothing-here").status_code == 404
    assert httpx.get(f"{sample_host.url}/hello/x").status_code == 404  # outside the route prefix


def test_a_method_the_function_does_not_accept_is_405(sample_host: SampleHost) -> None:
    assert httpx.delete(f"{sample_host.url}/api/hello/world").status_code == 405


@pytest.mark.parametrize(
    ("headers", "query", "status"),
    [
        ({}, {}, 401),
        ({"x-functions-key": "wrong"}, {}, 401),
        ({"x-functions-key": FUNCTION_KEY}, {}, 200),
        ({}, {"code": FUNCTION_KEY}, 200),
        ({"x-functions-key": MASTER_KEY}, {}, 200),
    ],
)
def test_function_level_auth(
    sample_host: SampleHost, headers: dict[str, str], query: dict[str, str], status: int
) -> None:
    assert httpx.get(f"{sample_host.url}/api/secret", headers=headers, params=query).status_code == status


def test_admin_level_needs_the_master_key(sample_host: SampleHost) -> None:
    assert (
        httpx.get(f"{sample_host.url}/api/admin-only", headers={"x-functions-key": FUNCTION_KEY}).status_code
        == 401
    )
    assert (
        httpx.get(f"{sample_host.url}/api/admin-only", headers={"x-functions-key": MASTER_KEY}).status_code
        == 200
    )


def test_an_unhandled_exception_is_a_500(sample_host: SampleHost) -> None:
    assert httpx.get(f"{sample_host.url}/api/boom").status_code == 500
