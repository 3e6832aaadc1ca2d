from __future__ import annotations

import pytest

from shared.providers.catalog import (
    DefaultProviderUnavailableError,
    ModelFamily,
    ProviderCatalog,
    ProviderName,
    UnknownModelError,
)
from shared.settings import Settings


def _catalog(**values: str) -> ProviderCatalog:
    base = {
        "COSMOS_ENDPOINT": "https://x",
        "GEMINI_API_KEY": "k",
        "GEMINI_MODELS": "gemini-2.5-flash-image,gemini-3-pro-image-preview",
        "AZURE_OPENAI_ENDPOINT": "https://aoai",
        "AZURE_OPENAI_DEPLOYMENTS": "gpt-image-1=gpt-image,dall-e-3=dall-e-3",
    }
    return ProviderCatalog(Settings(**{**base, **values}))


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
    with pytest.raises(UnknownModelError, match="not configured") as error:
        catalog.resolve("gemini", None)
    # The caller named it, so the field is theirs; the message says what would enable it.
    assert error.value.field == "provider"
    assert "GEMINI_API_KEY" in str(error.value)


def test_an_unset_default_is_the_first_configured_provider() -> None:
    assert _catalog().default_provider is ProviderName.GEMINI
    catalog = _catalog(GEMINI_API_KEY="")

    assert catalog.default_provider is ProviderName.AZURE_OPENAI
    assert catalog.resolve(None, None).model == "gpt-image-1"
    assert catalog.problems == []


def test_a_default_that_is_not_configured_is_the_operators_to_fix() -> None:
    catalog = _catalog(GEMINI_API_KEY="", DEFAULT_PROVIDER="gemini")

    (problem,) = catalog.problems
    assert problem.settings == ("DEFAULT_PROVIDER", "GEMINI_API_KEY")
    with pytest.raises(DefaultProviderUnavailableError) as error:
        catalog.resolve(None, None)
    assert (error.value.status, error.value.code) == (503, "SERVICE_UNAVAILABLE")
    assert "GEMINI_API_KEY" in error.value.message
    assert error.value.details == {"settings": ["DEFAULT_PROVIDER", "GEMINI_API_KEY"]}
    # Naming a configured provider still works.
    assert catalog.resolve("azure-openai", None).provider is ProviderName.AZURE_OPENAI


def test_no_provider_at_all_names_what_each_one_needs() -> None:
    catalog = _catalog(GEMINI_API_KEY="", AZURE_OPENAI_ENDPOINT="", AZURE_OPENAI_DEPLOYMENTS="")

    (problem,) = catalog.problems
    assert problem.settings == ("GEMINI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENTS")
    with pytest.raises(DefaultProviderUnavailableError, match="GEMINI_API_KEY.*AZURE_OPENAI_ENDPOINT"):
        catalog.resolve(None, "gemini-2.5-flash-image")


def test_a_default_that_names_no_provider_is_a_problem() -> None:
    catalog = _catalog(DEFAULT_PROVIDER="openai")

    assert [p.settings for p in catalog.problems] == [("DEFAULT_PROVIDER",)]
    with pytest.raises(DefaultProviderUnavailableError, match="'openai'"):
        catalog.resolve(None, None)


@pytest.mark.parametrize(
    ("values", "settings", "unusable"),
    [
        ({"GEMINI_MODELS": ""}, ("GEMINI_MODELS",), "gemini"),
        ({"AZURE_OPENAI_DEPLOYMENTS": ""}, ("AZURE_OPENAI_DEPLOYMENTS",), "azure-openai"),
        ({"AZURE_OPENAI_ENDPOINT": ""}, ("AZURE_OPENAI_ENDPOINT",), "azure-openai"),
        ({"AZURE_OPENAI_DEPLOYMENTS": "gpt-image-1=gpt-imag"}, ("AZURE_OPENAI_DEPLOYMENTS",), "azure-openai"),
        # What the platform leaves in the setting when it cannot resolve the reference.
        (
            {
                "GEMINI_API_KEY": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/gemini-api-key)"
            },
            ("GEMINI_API_KEY",),
            "gemini",
        ),
        (
            {"AZURE_OPENAI_API_KEY": "@Microsoft.KeyVault(VaultName=kv;SecretName=azure-openai-api-key)"},
            ("AZURE_OPENAI_API_KEY",),
            "azure-openai",
        ),
    ],
)
def test_a_half_configured_provider_is_a_problem_and_not_offered(
    values: dict[str, str], settings: tuple[str, ...], unusable: str
) -> None:
    catalog = _catalog(**values)

    assert [p.settings for p in catalog.problems] == [settings]
    assert unusable not in catalog.configured()
    with pytest.raises(UnknownModelError, match=settings[0]):
        catalog.resolve(unusable, None)


def test_a_deployment_of_an_unknown_family_is_left_out() -> None:
    catalog = _catalog(AZURE_OPENAI_DEPLOYMENTS="gpt-image-1=gpt-image,sd=stable-diffusion")

    assert catalog.configured()["azure-openai"] == ["gpt-image-1"]
    (problem,) = catalog.problems
    assert "'stable-diffusion'" in problem.message


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

    settings = Settings(
        COSMOS_ENDPOINT="https://x",
        GEMINI_API_KEY="k",
        GEMINI_MODELS="gemini-2.5-flash-image,gemini-3-pro-image-preview",
        AZURE_OPENAI_ENDPOINT="https://aoai",
        AZURE_OPENAI_DEPLOYMENTS="gpt-image-1=gpt-image,dall-e-3=dall-e-3",
        PROVIDER_FALLBACKS=fallbacks,
    )

    assert fallback_chain(settings.provider_fallbacks, ProviderCatalog(settings), *start) == chain
