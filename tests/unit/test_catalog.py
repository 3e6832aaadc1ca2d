from __future__ import annotations

import pytest

from shared.providers.catalog import ModelFamily, ProviderCatalog, ProviderName, UnknownModelError
from shared.settings import Settings


def _catalog(**values: str) -> ProviderCatalog:
    base = {
        "COSMOS_ENDPOINT": "https://x",
        "GEMINI_API_KEY": "k",
        "GEMINI_MODELS": "gemini-2.5-flash-image,gemini-3-pro-image-preview",
        "AZURE_OPENAI_ENDPOINT": "https://aoai",
        "AZURE_OPENAI_DEPLOYMENTS": "gpt-image-1=gpt-image,dall-e-3=dall-e-3",
    }
    return ProviderCatalog(Settings(**{**base, **values}))  # type: ignore[arg-type]


def test_defaults_are_the_default_provider_and_its_first_model() -> None:
    choice = _catalog().resolve(None, None)

    assert (choice.provider, choice.model, choice.family) == (
        ProviderName.GEMINI,
        "gemini-2.5-flash-image",
        ModelFamily.GEMINI,
    )


def test_azure_deployments_carry_their_family() -> None:
    assert _catalog().resolve("azure-openai", "dall-e-3").family is ModelFamily.DALL_E_3
    assert _catalog().resolve("azure-openai", None).model == "gpt-image-1"


@pytest.mark.parametrize(
    ("provider", "model", "field"),
    [("midjourney", None, "provider"), ("gemini", "gpt-image-1", "model"), ("azure-openai", "nope", "model")],
)
def test_unknown_choices_are_refused_by_field(provider: str, model: str | None, field: str) -> None:
    with pytest.raises(UnknownModelError) as error:
        _catalog().resolve(provider, model)
    assert error.value.field == field


def test_a_provider_without_credentials_is_not_offered() -> None:
    catalog = _catalog(GEMINI_API_KEY="")

    assert "gemini" not in catalog.configured()
    with pytest.raises(UnknownModelError, match="not configured"):
        catalog.resolve("gemini", None)


@pytest.mark.parametrize(
    ("fallbacks", "start", "chain"),
    [
        ("", ("gemini", "gemini-2.5-flash-image"), []),
        ("gemini=azure-openai", ("gemini", "gemini-3-pro-image-preview"), [("azure-openai", "gpt-image-1")]),
        (
            "gemini=azure-openai/dall-e-3,gemini/gemini-3-pro-image-preview=gemini/gemini-2.5-flash-image",
            ("gemini", "gemini-3-pro-image-preview"),
            [("gemini", "gemini-2.5-flash-image"), ("azure-openai", "dall-e-3")],  # model key wins, then on
        ),
        ("gemini=azure-openai,azure-openai=gemini", ("gemini", "gemini-2.5-flash-image"),
         [("azure-openai", "gpt-image-1")]),  # a loop ends the chain
        ("gemini=azure-openai/unknown", ("gemini", "gemini-2.5-flash-image"), []),  # not configured
    ],
)  # fmt: skip
def test_fallback_chain(fallbacks: str, start: tuple[str, str], chain: list[tuple[str, str]]) -> None:
    from shared.jobs.generation import fallback_chain

    settings = Settings(  # type: ignore[call-arg]
        COSMOS_ENDPOINT="https://x",
        GEMINI_API_KEY="k",
        GEMINI_MODELS="gemini-2.5-flash-image,gemini-3-pro-image-preview",
        AZURE_OPENAI_ENDPOINT="https://aoai",
        AZURE_OPENAI_DEPLOYMENTS="gpt-image-1=gpt-image,dall-e-3=dall-e-3",
        PROVIDER_FALLBACKS=fallbacks,
    )

    assert fallback_chain(settings.provider_fallbacks, ProviderCatalog(settings), *start) == chain
