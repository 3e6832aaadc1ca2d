"""Seed 003's pure parts: its rule order, native errors in its codes, its blob names."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from shared.compat.seed003 import parse_request, seed_error, to_generation_request
from shared.compat.seed003_models import SeedError, check_request_shape
from shared.errors import ApiError, validation_error
from shared.images.store import image_blob_name


def _shape_error(body: bytes) -> SeedError:
    with pytest.raises(SeedError) as caught:
        check_request_shape(parse_request(body))
    return caught.value


def test_the_first_broken_rule_answers() -> None:
    error = _shape_error(b'{"provider": "x", "model": "", "prompt": ""}')
    assert (error.code, error.details) == ("INVALID_INPUT", {"field": "provider"})
    error = _shape_error(b'{"provider": "gemini", "model": "m", "prompt": "p", "mask": {"b64": "x"}}')
    assert (error.code, error.details) == ("VALIDATION_ERROR", {"field": "mask"})


def test_a_body_that_is_not_a_json_object_is_invalid_input() -> None:
    with pytest.raises(SeedError) as caught:
        parse_request(b"[1, 2]")
    assert (caught.value.status, caught.value.code) == (400, "INVALID_INPUT")


@pytest.mark.parametrize(
    ("native", "status", "code"),
    [
        (
            validation_error("bad", [{"field": "referenceImages[0].url", "message": "refused"}]),
            400,
            "VALIDATION_ERROR",
        ),
        (validation_error("bad", [{"field": "mask", "message": "no alpha"}]), 400, "VALIDATION_ERROR"),
        (validation_error("bad", [{"field": "model", "message": "unknown"}]), 400, "INVALID_INPUT"),
        (ApiError(401, "UNAUTHORIZED", "no"), 401, "UNAUTHORIZED"),
        (ApiError(403, "FORBIDDEN", "no"), 403, "FORBIDDEN"),
        (
            ApiError(429, "RATE_LIMIT_EXCEEDED", "slow down", headers={"Retry-After": "3"}),
            503,
            "SERVICE_UNAVAILABLE",
        ),
        (ApiError(503, "SERVICE_UNAVAILABLE", "queue"), 503, "SERVICE_UNAVAILABLE"),
        (ApiError(500, "INTERNAL_ERROR", "boom"), 500, "SYSTEM_ERROR"),
    ],
)
def test_native_errors_in_the_seeds_codes(native: ApiError, status: int, code: str) -> None:
    seed = seed_error(native)

    assert (seed.status, seed.code) == (status, code)
    assert seed.details["reason"] == native.code
    assert seed.headers == native.headers


def test_native_field_names_read_as_the_seeds() -> None:
    seed = seed_error(validation_error("bad", [{"field": "referenceImages[0].mimeType", "message": "x"}]))
    assert seed.details["field"] == "referenceImage.mimeType"


def test_the_native_request_is_one_image_with_the_knobs_passed_through() -> None:
    request = parse_request(
        b'{"provider": "azure-openai", "model": "gpt-image-2", "prompt": "p", "size": "1024x1024",'
        b' "quality": "low", "referenceImage": {"url": "https://h/a.png", "mimeType": "image/png"},'
        b' "mask": {"b64": "QUJD"}}'
    )

    native = to_generation_request(request)

    assert (native.n, native.size, native.quality) == (1, "1024x1024", "low")
    assert native.reference_images[0].url == "https://h/a.png"
    assert native.reference_images[0].mime_type == "image/png"
    assert native.mask is not None and native.mask.b64 == "QUJD"


def test_uuid_blob_names_are_stable_per_output() -> None:
    created = datetime(2026, 4, 26, tzinfo=UTC)

    first = image_blob_name("org-1", created, "job-1", 0, "png", "uuid")

    assert re.fullmatch(
        r"images/org-1/2026-04-26/[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.png", first
    )
    assert image_blob_name("org-1", created, "job-1", 0, "png", "uuid") == first
    assert image_blob_name("org-1", created, "job-1", 1, "png", "uuid") != first
