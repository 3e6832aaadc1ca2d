"""HTTP triggers: routes, methods, auth levels, the host's request conversion, sync functions on the
worker's thread pool, failures."""

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


def test_sync_functions_run_on_the_workers_thread_pool(sample_host: SampleHost) -> None:
    assert httpx.get(f"{sample_host.url}/api/hello/x").json()["thread"].startswith("ThreadPoolExecutor-")


def test_header_names_arrive_lower_cased_and_repeated_headers_joined(sample_host: SampleHost) -> None:
    response = httpx.get(
        f"{sample_host.url}/api/hello/x",
        headers=[("X-Custom", "one"), ("X-Custom", "two"), ("X-Empty", "")],
    )

    headers = response.json()["headers"]
    assert headers["x-custom"] == "one,two"
    assert "X-Custom" not in headers
    assert headers["x-empty"] == ""


def test_repeated_query_keys_arrive_joined_and_empty_values_dropped(sample_host: SampleHost) -> None:
    response = httpx.get(f"{sample_host.url}/api/hello/x?limit=2&limit=3&status=&flag&Limit=4&q=a%20b")

    assert response.json()["query"] == {"limit": "2,3,4", "q": "a b"}


def test_the_body_arrives_only_with_a_content_length(sample_host: SampleHost) -> None:
    sized = httpx.post(f"{sample_host.url}/api/hello/x", content=b'{"a": 1}')
    chunked = httpx.post(f"{sample_host.url}/api/hello/x", content=iter([b'{"a":', b" 1}"]))

    assert sized.json()["body"] == '{"a": 1}'
    assert chunked.json()["body"] == ""
    assert chunked.json()["headers"]["transfer-encoding"] == "chunked"


def test_route_parameters_arrive_as_the_template_binds_them(sample_host: SampleHost) -> None:
    assert httpx.get(f"{sample_host.url}/api/hello/w%20x").json()["routeParams"] == {"name": "w x"}


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


@pytest.mark.parametrize("path", ["/admin/host/status", "/admin/functions", "/admin/anything"])
def test_admin_apis_need_the_master_key(sample_host: SampleHost, path: str) -> None:
    anonymous = httpx.get(f"{sample_host.url}{path}")
    with_function_key = httpx.get(f"{sample_host.url}{path}", headers={"x-functions-key": FUNCTION_KEY})
    with_master_key = httpx.get(f"{sample_host.url}{path}", params={"code": MASTER_KEY})

    assert anonymous.status_code == with_function_key.status_code == 401
    assert with_master_key.status_code == (404 if path == "/admin/anything" else 200)


def test_the_host_reports_the_worker_it_runs(sample_host: SampleHost) -> None:
    assert sample_host.status()["worker"] == "azure-functions-runtime 1.3.0"


def test_a_function_naming_a_missing_setting_is_in_error_and_the_others_run(sample_host: SampleHost) -> None:
    status = sample_host.status()

    assert "misconfigured" not in status["functions"]
    assert "SETTING_NOBODY_SET" in status["errors"]["misconfigured"]
    assert {"hello", "record_message", "ticker", "on_event"} <= set(status["functions"])


def test_a_function_disabled_by_its_app_setting_is_not_started(sample_host: SampleHost) -> None:
    status = sample_host.status()

    assert status["disabled"] == ["switched_off"]
    assert "switched_off" not in status["functions"]
    assert httpx.get(f"{sample_host.url}/api/switched-off").status_code == 404
    assert httpx.get(f"{sample_host.url}/api/hello/x").status_code == 200


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
