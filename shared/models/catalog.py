"""`GET /api/v1/models`: the providers and models this deployment offers, and what each one can take."""

from __future__ import annotations

from pydantic import Field

from shared.models.common import ApiModel


class ModelInfo(ApiModel):
    id: str = Field(description="What to send as `model`: a Gemini model name or an Azure OpenAI deployment.")
    family: str = Field(description="`gemini`, `gpt-image` or `dall-e-3`: decides which knobs apply.")
    is_default: bool = Field(description="Used when a request names this provider but no model.")
    max_reference_images: int = Field(description="How many `referenceImages` it takes (0: no edit mode).")
    mask: bool = Field(description="Whether it takes a `mask`.")
    negative_prompt: bool = Field(description="Whether `negativePrompt` is honoured (else ignored, warned).")
    sizes: list[str] = Field(description="`size` values it takes (empty: an aspect ratio or `WxH`).")
    qualities: list[str] = Field(description="`quality` values it takes (empty: ignored).")
    styles: list[str] = Field(description="`style` values it takes (empty: ignored).")


class ProviderInfo(ApiModel):
    name: str = Field(description="What to send as `provider`.")
    is_default: bool = Field(description="Used when a request names no provider.")
    models: list[ModelInfo]


class ModelCatalog(ApiModel):
    providers: list[ProviderInfo]
    aspect_ratios: list[str] = Field(description="Every `aspectRatio` a request may ask for.")
    resolutions: list[str] = Field(description="Every `resolution` a request may ask for.")
    max_images_per_job: int = Field(description="The largest `n`.")
