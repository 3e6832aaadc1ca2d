"""Seed 000 (`POST /api/image`): images + prompt in, one edited image out, synchronously."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.models.common import ApiModel, UtcDateTime


class ImageEditRequest(BaseModel):
    """`POST /api/image`. Lenient on purpose: the seed's one documented error, `No images provided`, must
    win over field validation when `images` is missing, empty or not a list; unknown fields are ignored, as
    the seed's own service did. Types are strict, as every request model's (`shared.models.common`)."""

    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)

    images: list[str] | None = Field(
        default=None,
        description="1-5 images: https URLs (allowlisted hosts or this service's storage), `data:` URLs, "
        "or raw base64.",
    )
    prompt: str | None = Field(default=None, description="What to make of the images (required).")

    @field_validator("images", mode="before")
    @classmethod
    def _not_a_list_is_none(cls, value: object) -> object:
        # A string or an object where the list belongs is "no images", the seed's documented answer.
        return value if isinstance(value, list) else None


class ImageEditResponse(ApiModel):
    """The documented 200 answer, plus `id`: the job, whose metadata `GET /api/image/{id}` reads."""

    image_base64: str = Field(description="The image as a `data:image/...;base64,...` URL.")
    image_url: str = Field(
        description="The image's permanent link (`/api/v1/image-links/...`; without signing keys a read-only "
        "SAS URL, or the public base URL)."
    )
    text: str | None = Field(default=None, description="The model's text part, if any.")
    id: str = Field(description="The generation's id (the native job id).")


class SimpleError(BaseModel):
    """The seed's flat error body: `{"error": "No images provided"}`, plus the native error code."""

    model_config = ConfigDict(defer_build=True)

    error: str
    code: str | None = None


class GenerationMetadata(ApiModel):
    """The metadata document the seed saves, read from the native job (`GET /api/image/{id}`)."""

    id: str
    user_id: str
    prompt: str
    input_images: list[str]
    output_image_url: str | None
    created_at: UtcDateTime
