"""Seed 003 (`POST /api/v1/agents/images`): shapes and the validation rules in the documented order.

The request model accepts any JSON object so that the rules below, not pydantic's field order, decide
which error a caller sees first: the seed lists its rules in order, with their codes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import ApiError
from shared.models.common import ApiModel
from shared.models.errors import ErrorCode
from shared.models.jobs import MAX_PROMPT_LENGTH

PROVIDERS = ("azure-openai", "gemini")
REFERENCE_MIME_TYPES = ("image/png", "image/jpeg")


class ImageSource(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    url: Any = None
    b64: Any = None
    mime_type: Any = Field(default=None, alias="mimeType")


class AgentImageRequest(BaseModel):
    # Unknown (and snake_case) keys are kept as extras, refused after the seed's rules.
    model_config = ConfigDict(extra="allow", defer_build=True)

    provider: Any = None
    model: Any = None
    prompt: Any = None
    size: Any = None
    quality: Any = None
    style: Any = None
    negative_prompt: Any = Field(default=None, alias="negativePrompt")
    reference_image: ImageSource | None = Field(default=None, alias="referenceImage")
    mask: ImageSource | None = None


class SeedError(ApiError):
    """An error already in seed 003's status and code (the route's renderer translates any other)."""


def _invalid(message: str, field: str) -> ApiError:
    return SeedError(400, ErrorCode.INVALID_INPUT, message, details={"field": field})


def _rejected(message: str, field: str) -> ApiError:
    return SeedError(400, ErrorCode.VALIDATION_ERROR, message, details={"field": field})


def check_request_shape(request: AgentImageRequest) -> None:
    """The structural rules of the seed, in its order. Byte checks (real PNG, allowlisted URL) follow
    when the references are resolved."""
    if request.provider not in PROVIDERS:
        raise _invalid(f"provider must be one of {', '.join(PROVIDERS)}", "provider")
    if not isinstance(request.model, str) or not request.model.strip():
        raise _invalid("model is required", "model")
    if not isinstance(request.prompt, str) or not request.prompt.strip():
        raise _invalid("prompt is required", "prompt")
    if len(request.prompt) > MAX_PROMPT_LENGTH:
        raise _invalid(f"prompt is longer than {MAX_PROMPT_LENGTH} characters", "prompt")
    reference = request.reference_image
    if reference is not None:
        if (reference.url is None) == (reference.b64 is None):
            raise _invalid("referenceImage needs exactly one of url or b64", "referenceImage")
        if reference.mime_type not in REFERENCE_MIME_TYPES:
            raise _invalid(
                f"referenceImage.mimeType must be one of {', '.join(REFERENCE_MIME_TYPES)}", "referenceImage"
            )
    if request.mask is not None:
        if reference is None:
            raise _rejected("mask requires referenceImage", "mask")
        if request.provider != "azure-openai":
            raise _rejected("mask is supported only with provider azure-openai", "mask")
        if (request.mask.url is None) == (request.mask.b64 is None):
            raise _rejected("mask needs exactly one of url or b64", "mask")


class AgentImageUsage(ApiModel):
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None


class AgentImage(ApiModel):
    url: str
    mime_type: str
    bytes: int
    width: int | None = None
    height: int | None = None
    revised_prompt: str | None = None
    provider: str
    model: str
    mode: Literal["generate", "edit"]
    usage: AgentImageUsage | None = None


class ResponseMetadata(ApiModel):
    success: bool
    timestamp: int


class AgentImageResponse(ApiModel):
    data: AgentImage
    metadata: ResponseMetadata


class AgentErrorBody(ApiModel):
    code: str
    message: str
    details: Any = None


class AgentErrorResponse(ApiModel):
    error: AgentErrorBody
    metadata: ResponseMetadata
