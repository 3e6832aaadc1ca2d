"""Permanent image links: stable, signed, rotatable, and nothing in them expires."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.library.links import LinkTarget, link_token, permanent_url, target_of_url, verify_token
from shared.models.jobs import GenerationSpec, JobDocument, JobStatus, StoredImage
from shared.settings import Settings

JOB_ID = "0b6c0f4e-3f0e-4a5e-9c39-8f6a2d3b1e77"
OLD = ("k1", "an-old-signing-secret-0001")
NEW = ("k2", "a-new-signing-secret-00002")
TARGET = LinkTarget(tenant_id="org.a-1", image_id=f"{JOB_ID}-2")


def _settings(keys: str | None = "k1=an-old-signing-secret-0001", **values: str) -> Settings:
    if keys is not None:
        values["IMAGE_LINK_SIGNING_KEYS"] = keys
    return Settings(COSMOS_ENDPOINT="https://x", **values)


def _job(api_base_url: str | None = "https://app.example.net/api") -> tuple[JobDocument, StoredImage]:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    image = StoredImage(
        index=2, container="generated", blob_name="b.png", mime_type="image/png", width=1, height=1, bytes=1
    )
    job = JobDocument(
        id=JOB_ID,
        tenant_id="org.a-1",
        status=JobStatus.SUCCEEDED,
        spec=GenerationSpec(prompt="p", provider="gemini", model="m", aspect_ratio="1:1"),
        created_at=now,
        updated_at=now,
        outputs=[image],
        api_base_url=api_base_url,
    )
    return job, image


def test_a_link_is_stable_and_names_its_image() -> None:
    token = link_token((OLD,), TARGET)

    assert link_token((OLD,), TARGET) == token
    assert verify_token((OLD,), token) == TARGET
    assert "org.a-1" not in token and JOB_ID not in token  # opaque


def test_the_first_key_signs_and_every_listed_key_verifies() -> None:
    old_link = link_token((OLD,), TARGET)
    new_link = link_token((NEW, OLD), TARGET)

    assert new_link != old_link and new_link.startswith("k2.")
    assert verify_token((NEW, OLD), old_link) == TARGET  # rotated in: old links still work
    assert verify_token((NEW,), old_link) is None  # the old key dropped: its links die
    assert verify_token((NEW,), new_link) == TARGET


def test_a_tampered_or_foreign_link_does_not_verify() -> None:
    token = link_token((OLD,), TARGET)
    key_id, payload, signature = token.split(".")
    other = link_token((OLD,), LinkTarget(tenant_id="org-b", image_id=f"{JOB_ID}-0"))

    for forged in (
        f"{key_id}.{other.split('.')[1]}.{signature}",  # another image under this signature
        f"{key_id}.{payload}.{signature[:-1]}A",
        f"{key_id}.{payload}.",
        f"k9.{payload}.{signature}",
        f"{key_id}.{payload}",
        token + ".x",
        "",
        "..",
        "x" * 600,
        link_token((("k1", "another-secret-of-some-one"),), TARGET),
    ):
        assert verify_token((OLD,), forged) is None, forged


def test_a_signed_payload_that_names_no_image_does_not_verify() -> None:
    for target in (LinkTarget("org", "../x"), LinkTarget("../org", f"{JOB_ID}-0"), LinkTarget("org", JOB_ID)):
        assert verify_token((OLD,), link_token((OLD,), target)) is None


def test_the_permanent_url_is_on_the_public_base_else_where_the_job_was_submitted() -> None:
    job, image = _job()

    url = permanent_url(_settings(), job, image)
    assert url is not None and url.startswith("https://app.example.net/api/v1/image-links/k1.")
    gateway = permanent_url(_settings(PUBLIC_API_BASE_URL="https://images.example.com/api/"), job, image)
    assert gateway is not None and gateway.startswith("https://images.example.com/api/v1/image-links/k1.")
    assert target_of_url(_settings(), url) == LinkTarget("org.a-1", f"{JOB_ID}-2")
    # It carries no time: the same link verifies whatever the clock says (it lives as long as the image).
    assert permanent_url(_settings(), job, image) == url


def test_no_keys_no_links() -> None:
    job, image = _job()

    assert permanent_url(_settings(keys=None), job, image) is None
    assert permanent_url(_settings(), _job(api_base_url=None)[0], image) is None
    assert target_of_url(_settings(keys=None), "https://x/api/v1/image-links/a.b.c") is None


def test_only_this_services_links_are_recognised() -> None:
    settings = _settings()
    job, image = _job()
    url = permanent_url(settings, job, image)
    assert url is not None

    for other in (
        "https://cdn.example.net/a.png",
        url.replace("image-links", "images"),
        url + "/more",
        url.replace("/v1/", "/v2/"),
        "not a url",
    ):
        assert target_of_url(settings, other) is None, other


@pytest.mark.parametrize(
    "value",
    [
        "k1",
        "k1=short",
        "k1=a-long-enough-secret,k1=another-long-secret",
        "k.1=a-long-enough-secret",
        "=x" * 9,
    ],
)
def test_malformed_signing_keys_are_refused_without_quoting_them(value: str) -> None:
    with pytest.raises(ValidationError, match="IMAGE_LINK_SIGNING_KEYS") as refused:
        _settings(keys=value)

    assert "a-long-enough-secret" not in str(refused.value) and "short" not in str(refused.value)


def test_signing_keys_parse_in_order() -> None:
    settings = _settings(keys=" k2 = a-new-signing-secret-00002 , k1=an-old-signing-secret-0001")

    assert settings.image_link_keys == (NEW, OLD)
    assert _settings(keys="").image_link_keys == ()
