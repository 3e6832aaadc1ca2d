"""A scripted image provider: each call takes the next outcome from a script."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from PIL import Image

from shared import clock
from shared.providers.base import ImageCall, ProviderError, ProviderImage, ProviderResult
from shared.providers.catalog import ProviderCatalog
from shared.settings import Settings


def png(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def images(count: int = 1) -> ProviderResult:
    return ProviderResult(images=[ProviderImage(data=png(), mime_type="image/png") for _ in range(count)])


# An outcome: a result, an error to raise, or a coroutine function to await for one (e.g. to block).
Outcome = ProviderResult | ProviderError | Callable[[ImageCall], Awaitable[ProviderResult]]


@dataclass
class ScriptedProvider:
    name: str = "gemini"
    script: list[Outcome] = field(default_factory=list)
    calls: list[ImageCall] = field(default_factory=list)
    called_at: list[float] = field(default_factory=list)  # on the application's clock

    async def generate(self, call: ImageCall) -> ProviderResult:
        self.calls.append(call)
        self.called_at.append(clock.time())
        outcome = self.script.pop(0) if self.script else images(call.spec.n)
        if isinstance(outcome, ProviderError):
            raise outcome
        if isinstance(outcome, ProviderResult):
            await asyncio.sleep(0)
            return outcome
        return await outcome(call)

    async def complete_text(self, instruction: str, text: str) -> str:
        return f"enhanced: {text}"


class ScriptedProviders:
    """The registry's surface (`catalog`, `get`), every provider scripted."""

    def __init__(self, settings: Settings) -> None:
        self.catalog = ProviderCatalog(settings)
        self.providers: dict[str, ScriptedProvider] = {}

    def get(self, name: str) -> ScriptedProvider:
        return self.providers.setdefault(name, ScriptedProvider(name=name))
