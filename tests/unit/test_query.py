"""Query parameters: text converted as documented, and a parameter given twice refused however the front
end delivers it (the Functions host joins repeated keys as `1,2`; other front ends keep one value)."""

from __future__ import annotations

import azure.functions as func
import pytest

from shared.errors import ApiError
from shared.http.query import parse_query, query_flag, response_format_param
from shared.models.presets import PresetListQuery


def _request(query: str, params: dict[str, str]) -> func.HttpRequest:
    return func.HttpRequest(
        method="GET", url=f"http://h/api/v1/presets?{query}", headers={}, params=params, body=b""
    )


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("limit=1&limit=2", {"limit": "1"}),  # a front end that keeps the first value
        ("limit=1&limit=2", {"limit": "2"}),  # ... or the last
        ("limit=1,2", {"limit": "1,2"}),  # the Functions host's join
        ("limit=1&pageToken=a&limit=1", {"limit": "1", "pageToken": "a"}),
    ],
)
def test_a_repeated_or_joined_parameter_is_a_400_naming_it(query: str, params: dict[str, str]) -> None:
    with pytest.raises(ApiError) as refused:
        parse_query(_request(query, params), PresetListQuery)

    assert refused.value.status == 400
    assert refused.value.details[0]["field"] == "limit"


def test_text_parameters_are_converted() -> None:
    query = parse_query(_request("limit=5&pageToken=t", {"limit": "5", "pageToken": "t"}), PresetListQuery)

    assert (query.limit, query.page_token) == (5, "t")


def test_flags_and_formats_refuse_repeats_too() -> None:
    assert query_flag(_request("hard=true", {"hard": "true"}), "hard") is True
    assert query_flag(_request("hard=false", {"hard": "false"}), "hard") is False
    assert query_flag(_request("", {}), "hard") is False
    for call in (
        lambda: query_flag(_request("hard=true&hard=false", {"hard": "true"}), "hard"),
        lambda: query_flag(_request("hard=1,2", {"hard": "1,2"}), "hard"),
        lambda: query_flag(_request("hard=no", {"hard": "no"}), "hard"),
        lambda: response_format_param(_request("response_format=url&response_format=both", {})),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        assert refused.value.status == 400
