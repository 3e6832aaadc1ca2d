"""Which providers and models this deployment offers, from settings alone (no SDK import)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.settings import Settings


class ProviderName(StrEnum):
    GEMINI = "gemini"
    AZURE_OPENAI = "azure-openai"


class ModelFamily(StrEnum):
    GEMINI = "gemini"
    GPT_IMAGE = "gpt-image"
    DALL_E_3 = "dall-e-3"


@dataclass(frozen=True)
class ModelChoice:
    provider: ProviderName
    model: str
    family: ModelFamily


class UnknownModelError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class ProviderCatalog:
    def __init__(self, settings: Settings) -> None:
        self._models: dict[ProviderName, dict[str, ModelFamily]] = {}
        if settings.gemini_api_key and settings.gemini_models:
            self._models[ProviderName.GEMINI] = {m: ModelFamily.GEMINI for m in settings.gemini_models}
        if settings.azure_openai_endpoint and settings.azure_openai_deployments:
            self._models[ProviderName.AZURE_OPENAI] = {
                deployment: ModelFamily(family)
                for deployment, family in settings.azure_openai_deployments.items()
            }
        self._default_provider = settings.default_provider

    def configured(self) -> dict[str, list[str]]:
        return {provider.value: list(models) for provider, models in self._models.items()}

    def choices(self) -> list[ModelChoice]:
        """Every configured model, each provider's default (its first) first."""
        return [
            ModelChoice(provider=provider, model=model, family=family)
            for provider, models in self._models.items()
            for model, family in models.items()
        ]

    @property
    def default_provider(self) -> str:
        return self._default_provider

    def resolve(self, provider: str | None, model: str | None) -> ModelChoice:
        """The provider and model a request gets; an unknown or unconfigured one is refused by name."""
        name = provider or self._default_provider
        try:
            provider_name = ProviderName(name)
        except ValueError:
            options = ", ".join(p.value for p in ProviderName)
            raise UnknownModelError(
                f"Unknown provider {name!r}; expected one of: {options}.", "provider"
            ) from None
        models = self._models.get(provider_name)
        if not models:
            raise UnknownModelError(f"Provider {name!r} is not configured on this service.", "provider")
        chosen = model or next(iter(models))
        if chosen not in models:
            raise UnknownModelError(
                f"Model {chosen!r} is not available for {name}; available: {', '.join(models)}.", "model"
            )
        return ModelChoice(provider=provider_name, model=chosen, family=models[chosen])
