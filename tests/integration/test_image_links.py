"""Permanent image links over HTTP: one stable link per image that outlives its SAS URLs, redirects to a
fresh short-lived read URL, needs no credentials, refuses a tampered link and dies with the image."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.conftest import submit, unique_prompt, wait_for_terminal

pytestmark = pytest.mark.integration

LINKS = "/v1/image-links/"


def _expiry(url: str) -> datetime:
    """The `se` (signed expiry) of a SAS URL."""
    [value] = parse_qs(urlsplit(url).query)["se"]
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _finished(api: httpx.Client, **body: Any) -> dict[str, Any]:
    job = wait_for_terminal(api, submit(api, prompt=unique_prompt("a permanent lighthouse"), **body)["id"])
    assert job["status"] == "succeeded", job
    return job


def test_a_link_redirects_to_a_fresh_short_lived_url_of_the_image_without_credentials(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    job = _finished(api)
    output = job["outputs"][0]
    link = output["permanentUrl"]
    assert link and LINKS in link and "se=" not in link and "sig=" not in link

    response = anonymous.get(link)

    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert urlsplit(location).path == urlsplit(output["url"]).path  # the same blob, by a new SAS URL
    lifetime = _expiry(location) - datetime.now(UTC)
    assert timedelta(minutes=8) < lifetime <= timedelta(minutes=10, seconds=5)
    assert response.headers["Cache-Control"] == "private, max-age=300"
    image = httpx.get(location, timeout=30)
    content = api.get(f"/v1/images/{output['id']}/content")
    assert image.status_code == 200 and image.content == content.content
    assert image.headers["content-type"] == output["mimeType"]


def test_the_link_is_stable_and_outlives_the_sas_urls(api: httpx.Client, anonymous: httpx.Client) -> None:
    job = _finished(api, n=2)
    links = [output["permanentUrl"] for output in job["outputs"]]
    assert len(set(links)) == 2

    again = api.get(f"/v1/images/generations/{job['id']}").json()
    record = api.get(f"/v1/images/{job['outputs'][1]['id']}").json()
    first = anonymous.get(links[0]).headers["Location"]
    time.sleep(1.1)
    second = anonymous.get(links[0]).headers["Location"]

    assert [output["permanentUrl"] for output in again["outputs"]] == links
    assert record["permanentUrl"] == links[1]
    # Each follow signs a new read URL: the link itself carries no expiry, whatever the SAS TTL.
    assert _expiry(second) > _expiry(first)
    assert _expiry(first) < _expiry(job["outputs"][0]["url"])  # shorter than the job's own SAS URL
    assert httpx.get(first, timeout=30).content == httpx.get(second, timeout=30).content


def test_a_tampered_or_unknown_link_is_404(api: httpx.Client, anonymous: httpx.Client) -> None:
    link = _finished(api)["outputs"][0]["permanentUrl"]
    base, token = link.split(LINKS)
    key_id, payload, signature = token.split(".")
    other = _finished(api)["outputs"][0]["permanentUrl"].split(LINKS)[1].split(".")[1]

    for forged in (
        f"{key_id}.{payload}.{signature[:-2]}AA",
        f"{key_id}.{other}.{signature}",  # another image under this image's signature
        f"rotated.{payload}.{signature}",
        f"{key_id}.{payload}",
        "x",
    ):
        response = anonymous.get(f"{base}{LINKS}{forged}")
        assert response.status_code == 404, forged
        assert response.json()["error"] == {
            "code": "NOT_FOUND",
            "message": "Image was not found.",
            "details": None,
        }
        assert "Location" not in response.headers


def test_the_link_dies_with_the_image(api: httpx.Client, anonymous: httpx.Client) -> None:
    soft = _finished(api)
    hard = _finished(api)
    soft_link, hard_link = soft["outputs"][0]["permanentUrl"], hard["outputs"][0]["permanentUrl"]
    assert anonymous.get(soft_link).status_code == anonymous.get(hard_link).status_code == 302

    assert api.delete(f"/v1/images/generations/{soft['id']}").status_code == 204
    assert api.delete(f"/v1/images/generations/{hard['id']}", params={"hard": "true"}).status_code == 204

    gone = anonymous.get(soft_link)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "GONE"
    purged = anonymous.get(hard_link)
    assert purged.status_code == 404
    assert purged.json()["error"]["code"] == "NOT_FOUND"
