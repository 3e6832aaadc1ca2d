"""Seed 000 (`POST /api/image`): images + prompt in, one edited image out, synchronously."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.models.common import ApiModel, UtcDateTime


class ImageEditRequest(BaseModel):
    """Lenient on purpose: the seed's one documented error, `No images provided`, must win over field
    validation when `images` is missing or empty."""

    model_config = ConfigDict(extra="ignore")

    images: list[str] | None = None
    prompt: str | None = None


class ImageEditResponse(ApiModel):
    image_base64: str  # a data: URL, as documented
    image_url: str
    text: str | None = None


class SimpleError(BaseModel):
    """The seed's flat error body: `{"error": "No images provided"}`."""

    error: str


class GenerationMetadata(ApiModel):
    """The metadata document the seed saves; readable through the native job (`GET .../generations/{id}`)."""

    id: str
    user_id: str
    prompt: str
    input_images: list[str]
    output_image_url: str | None
    created_at: UtcDateTime
