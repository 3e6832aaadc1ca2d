"""Seed 002's translation: its request as a native one, and native 400s in the caller's own field names."""

from __future__ import annotations

import json

import pytest

from shared.compat.seed000 import submit_policy as seed000_policy
from shared.compat.seed002 import in_seed_terms, submit_policy, to_native
from shared.compat.seed002_models import V0GenerationRequest
from shared.errors import ApiError
from shared.providers.catalog import ProviderCatalog
from shared.settings import Settings

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def _settings(**values: str) -> Settings:
    return Settings(COSMOS_ENDPOINT="https://x", **values)


def _request(**fields: object) -> V0GenerationRequest:
    return V0GenerationRequest.model_validate({"prompt": "p", **fields})


def _native_400(*problems: tuple[str, str]) -> ApiError:
    message = "Invalid request: " + "; ".join(f"{field}: {text}" for field, text in problems)
    return ApiError(
        400, "VALIDATION_ERROR", message, details=[{"field": f, "message": m} for f, m in problems]
    )


def test_sample_count_has_the_documented_range_by_default_not_the_native_one() -> None:
    settings = _settings()

    assert settings.max_images_per_job == 4
    assert submit_policy(settings).max_images == 10
    assert submit_policy(_settings(SEED002_MAX_SAMPLES="3")).max_images == 3
    native = to_native(_request(sampleCount=10), ProviderCatalog(settings))
    assert native.n == 10


def test_native_errors_name_the_callers_fields() -> None:
    request = _request(
        refImageBase64=[{"mimeType": "image/png", "data": PNG_B64}],
        refImageUrls=["https://a.example/x.png", "https://b.example/y.png"],
    )
    native = _native_400(
        ("n", "must be between 1 and 3."),
        ("referenceImages[0].b64", "Not valid base64."),
        ("referenceImages[2].url", "The URL was refused: the host b.example does not resolve"),
        ("referenceImages.1.url", "String should have at most 4096 characters"),
        ("model", "unknown model"),
        ("variables.size", "required by the preset"),
    )

    renamed = in_seed_terms(native, request)

    assert [item["field"] for item in renamed.details] == [
        "sampleCount",
        "refImageBase64[0].data",
        "refImageUrls[1]",
        "refImageUrls[0]",
        "modelVersion",
        "variables.size",
    ]
    assert renamed.message.startswith("Invalid request: sampleCount: must be between 1 and 3.; ")
    assert "refImageUrls[1]: The URL was refused" in renamed.message
    assert "referenceImages" not in renamed.message and " n:" not in renamed.message
    other = ApiError(402, "INSUFFICIENT_CREDITS", "n: costs")
    assert in_seed_terms(other, request) is other


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"refImageUrls": [""]}, "refImageUrls.0"),
        ({"refImageUrls": ["   "]}, "refImageUrls.0"),
        ({"presetId": ""}, "presetId"),
        ({"presetId": "../presets"}, "presetId"),
        ({"sampleCount": 11}, "sampleCount"),
        ({"sampleCount": "2"}, "sampleCount"),
        ({"isPublic": "yes"}, "isPublic"),
        ({"prompt": "x" * 4001}, "prompt"),
    ],
)
def test_bad_fields_are_refused_by_the_seed_model(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError) as refused:
        V0GenerationRequest.model_validate_json(json.dumps({"prompt": "p", **fields}))

    assert field in str(refused.value)


def test_seed_000_fetches_public_hosts_unless_the_setting_restricts_it() -> None:
    assert seed000_policy(_settings()).fetch_public_hosts is True
    assert seed000_policy(_settings(SEED000_FETCH_PUBLIC_HOSTS="false")).fetch_public_hosts is False
