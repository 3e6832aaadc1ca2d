"""Provider instances by name, imported on first use and kept for the process."""

from __future__ import annotations

import importlib

from shared.providers.base import ImageProvider
from shared.providers.catalog import ProviderCatalog, ProviderName
from shared.settings import Settings
from shared.telemetry.tracing import span

_MODULES = {
    ProviderName.GEMINI: "shared.providers.gemini",
    ProviderName.AZURE_OPENAI: "shared.providers.azure_openai",
}


class ProviderRegistry:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.catalog = ProviderCatalog(settings)
        self._instances: dict[ProviderName, ImageProvider] = {}

    def get(self, name: str) -> ImageProvider:
        provider_name = ProviderName(name)
        if provider_name not in self._instances:
            # The first job of a process pays for importing the provider's SDK: its own span shows it.
            with span("imagegen.provider.load", {"imagegen.provider": provider_name.value}):
                module = importlib.import_module(_MODULES[provider_name])
                self._instances[provider_name] = module.create_provider(self._settings, self.catalog)
        return self._instances[provider_name]

    async def aclose(self) -> None:
        """Close the SDK clients of the providers made so far."""
        instances, self._instances = list(self._instances.values()), {}
        for provider in instances:
            await provider.aclose()
