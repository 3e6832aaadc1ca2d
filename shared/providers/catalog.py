"""Which providers and models this deployment offers, from settings alone (no SDK import).

The catalog also knows which settings keep a provider from being offered (`problems`): they are logged
once when the app context is built, reported by `GET /api/health`, and named in the answer to a request
that needs the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr

from shared.errors import ApiError
from shared.models.errors import ErrorCode
from shared.settings import Settings


class ProviderName(StrEnum):
    GEMINI = "gemini"
    AZURE_OPENAI = "azure-openai"


class ModelFamily(StrEnum):
    GEMINI = "gemini"
    GPT_IMAGE = "gpt-image"
    DALL_E_3 = "dall-e-3"


def calls_per_job(family: ModelFamily, images: int) -> int:
    """Provider calls a job of `images` images makes: Gemini and dall-e-3 draw one image per call (in
    parallel), gpt-image draws them all in one."""
    return 1 if family is ModelFamily.GPT_IMAGE else images


def family_of(settings: Settings, provider: str, model: str) -> ModelFamily | None:
    """The family of a model named in settings, whether or not its provider is configured."""
    if provider == ProviderName.GEMINI:
        return ModelFamily.GEMINI
    if provider == ProviderName.AZURE_OPENAI and model in settings.azure_openai_deployments:
        family = settings.azure_openai_deployments[model]
        return ModelFamily(family) if family in {f.value for f in ModelFamily} else None
    return None


@dataclass(frozen=True)
class ModelChoice:
    provider: ProviderName
    model: str
    family: ModelFamily


@dataclass(frozen=True)
class SettingProblem:
    """App settings that leave a provider (or the default) unusable, and what to change."""

    settings: tuple[str, ...]
    message: str


class UnknownModelError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class DefaultProviderUnavailableError(ApiError):
    """A request that names no provider, on a service whose default provider cannot serve it: the
    operator's settings must change, not the request."""

    def __init__(self, message: str, settings: tuple[str, ...]) -> None:
        super().__init__(503, ErrorCode.SERVICE_UNAVAILABLE, message, details={"settings": list(settings)})


_DISPLAY_NAMES = {ProviderName.GEMINI: "Gemini", ProviderName.AZURE_OPENAI: "Azure OpenAI"}
# What the platform leaves in a setting whose Key Vault reference it could not resolve.
_KEY_VAULT_REFERENCE = "@microsoft.keyvault("


def _unresolved_reference(value: SecretStr | None) -> bool:
    return value is not None and value.get_secret_value().strip().lower().startswith(_KEY_VAULT_REFERENCE)


def _unresolved_problem(setting: str, provider: ProviderName) -> SettingProblem:
    return SettingProblem(
        (setting,),
        f"{setting} is a Key Vault reference the platform could not resolve, so "
        f"{_DISPLAY_NAMES[provider]} is not offered: check that the secret exists and that the app's "
        "identity may read it (Key Vault Secrets User).",
    )


def _and(names: tuple[str, ...] | list[str]) -> str:
    return " and ".join(names)


class ProviderCatalog:
    def __init__(self, settings: Settings) -> None:
        self._models: dict[ProviderName, dict[str, ModelFamily]] = {}
        # For each provider that is not offered, the settings it still needs.
        self._missing: dict[ProviderName, tuple[str, ...]] = {}
        self._problems: list[SettingProblem] = []
        self._add_gemini(settings)
        self._add_azure_openai(settings)
        self._default_problem: SettingProblem | None = None
        self._default_provider = self._choose_default(settings.default_provider)
        if self._default_problem is not None:
            self._problems.append(self._default_problem)

    def _offer(self, provider: ProviderName, models: dict[str, ModelFamily], missing: list[str]) -> None:
        if missing:
            self._missing[provider] = tuple(missing)
        else:
            self._models[provider] = models

    def _add_gemini(self, settings: Settings) -> None:
        missing = []
        key = settings.gemini_api_key
        if not key or not key.get_secret_value().strip():
            missing.append("GEMINI_API_KEY")
        elif _unresolved_reference(key):
            missing.append("GEMINI_API_KEY")
            self._problems.append(_unresolved_problem("GEMINI_API_KEY", ProviderName.GEMINI))
        if not settings.gemini_models:
            missing.append("GEMINI_MODELS")
            if "GEMINI_API_KEY" not in missing:
                self._problems.append(
                    SettingProblem(
                        ("GEMINI_MODELS",),
                        "GEMINI_MODELS is empty, so Gemini is not offered although GEMINI_API_KEY is set: "
                        "list the Gemini image models callers may choose.",
                    )
                )
        self._offer(ProviderName.GEMINI, {m: ModelFamily.GEMINI for m in settings.gemini_models}, missing)

    def _add_azure_openai(self, settings: Settings) -> None:
        deployments: dict[str, ModelFamily] = {}
        families = ", ".join(f.value for f in ModelFamily if f is not ModelFamily.GEMINI)
        for deployment, family in settings.azure_openai_deployments.items():
            if family in (ModelFamily.GPT_IMAGE, ModelFamily.DALL_E_3):
                deployments[deployment] = ModelFamily(family)
            else:
                self._problems.append(
                    SettingProblem(
                        ("AZURE_OPENAI_DEPLOYMENTS",),
                        f"AZURE_OPENAI_DEPLOYMENTS gives deployment {deployment!r} the unknown family "
                        f"{family!r} (expected {families}), so it is not offered.",
                    )
                )
        endpoint = bool(settings.azure_openai_endpoint)
        missing = []
        if not endpoint:
            missing.append("AZURE_OPENAI_ENDPOINT")
            if deployments:
                self._problems.append(
                    SettingProblem(
                        ("AZURE_OPENAI_ENDPOINT",),
                        "AZURE_OPENAI_ENDPOINT is not set, so the deployments in AZURE_OPENAI_DEPLOYMENTS "
                        "are not offered.",
                    )
                )
        if not deployments:
            missing.append("AZURE_OPENAI_DEPLOYMENTS")
            if endpoint and not settings.azure_openai_deployments:
                self._problems.append(
                    SettingProblem(
                        ("AZURE_OPENAI_DEPLOYMENTS",),
                        "AZURE_OPENAI_DEPLOYMENTS is empty, so Azure OpenAI is not offered although "
                        f"AZURE_OPENAI_ENDPOINT is set: list them as deployment=family (family {families}).",
                    )
                )
        if _unresolved_reference(settings.azure_openai_api_key):
            missing.append("AZURE_OPENAI_API_KEY")
            self._problems.append(_unresolved_problem("AZURE_OPENAI_API_KEY", ProviderName.AZURE_OPENAI))
        self._offer(ProviderName.AZURE_OPENAI, deployments, missing)

    def _choose_default(self, configured_default: str | None) -> ProviderName | None:
        """DEFAULT_PROVIDER when it names an offered provider; unset, the first offered one."""
        if not configured_default:
            if self._models:
                return next(iter(self._models))
            self._default_problem = SettingProblem(self._all_missing(), self._none_offered())
            return None
        try:
            provider = ProviderName(configured_default)
        except ValueError:
            options = ", ".join(p.value for p in ProviderName)
            self._default_problem = SettingProblem(
                ("DEFAULT_PROVIDER",),
                f"DEFAULT_PROVIDER is {configured_default!r}, which is not a provider: set one of "
                f"{options}, or remove it to use the first configured provider.",
            )
            return None
        if provider not in self._models:
            self._default_problem = SettingProblem(
                ("DEFAULT_PROVIDER", *self._missing[provider]),
                f"DEFAULT_PROVIDER is {provider.value}, but {_DISPLAY_NAMES[provider]} is not configured: "
                f"set {_and(self._missing[provider])}, or point DEFAULT_PROVIDER at a configured "
                "provider (unset, it is the first configured one).",
            )
            return None
        return provider

    def _all_missing(self) -> tuple[str, ...]:
        return tuple(name for missing in self._missing.values() for name in missing)

    def _none_offered(self) -> str:
        needs = " or ".join(f"{_and(missing)} ({_DISPLAY_NAMES[p]})" for p, missing in self._missing.items())
        return f"No provider is configured: set {needs}."

    @property
    def problems(self) -> list[SettingProblem]:
        """Every setting that keeps a provider, or the default, from serving; empty when all is well."""
        return list(self._problems)

    @property
    def default_provider(self) -> ProviderName | None:
        return self._default_provider

    def configured(self) -> dict[str, list[str]]:
        return {provider.value: list(models) for provider, models in self._models.items()}

    def not_configured_message(self, provider: ProviderName) -> str:
        return (
            f"Provider {provider.value!r} is not configured on this service: its operator must set "
            f"{_and(self._missing[provider])}."
        )

    def choices(self) -> list[ModelChoice]:
        """Every configured model, each provider's default (its first) first."""
        return [
            ModelChoice(provider=provider, model=model, family=family)
            for provider, models in self._models.items()
            for model, family in models.items()
        ]

    def resolve(self, provider: str | None, model: str | None) -> ModelChoice:
        """The provider and model a request gets. An unknown provider or model, or a named provider that
        is not configured, is the caller's choice (UnknownModelError, by field); no provider on a service
        without a usable default is the operator's to fix (DefaultProviderUnavailableError, a 503)."""
        if not provider:
            if self._default_provider is None:
                assert self._default_problem is not None
                raise DefaultProviderUnavailableError(
                    "The request names no provider, and this service has no usable default provider: "
                    + self._default_problem.message,
                    self._default_problem.settings,
                )
            provider_name = self._default_provider
        else:
            try:
                provider_name = ProviderName(provider)
            except ValueError:
                options = ", ".join(p.value for p in ProviderName)
                raise UnknownModelError(
                    f"Unknown provider {provider!r}; expected one of: {options}.", "provider"
                ) from None
        models = self._models.get(provider_name)
        if not models:
            raise UnknownModelError(self.not_configured_message(provider_name), "provider")
        chosen = model or next(iter(models))
        if chosen not in models:
            raise UnknownModelError(
                f"Model {chosen!r} is not available for {provider_name.value}; "
                f"available: {', '.join(models)}.",
                "model",
            )
        return ModelChoice(provider=provider_name, model=chosen, family=models[chosen])
