"""Azure OpenAI image deployments (gpt-image-*, dall-e-3) through the openai SDK's AsyncAzureOpenAI."""

from __future__ import annotations

import base64
import json
import logging

import openai
from openai import AsyncAzureOpenAI

from shared.models.errors import ErrorCode
from shared.providers.base import (
    ImageCall,
    ProviderError,
    ProviderImage,
    ProviderResult,
    parse_retry_after,
    transient_error,
)
from shared.providers.catalog import ModelFamily, ProviderCatalog
from shared.settings import Settings

logger = logging.getLogger(__name__)

# Sizes each family accepts, as (width, height).
_SIZES: dict[ModelFamily, tuple[tuple[int, int], ...]] = {
    ModelFamily.GPT_IMAGE: ((1024, 1024), (1536, 1024), (1024, 1536)),
    ModelFamily.DALL_E_3: ((1024, 1024), (1792, 1024), (1024, 1792)),
}


def nearest_size(family: ModelFamily, aspect_ratio: str) -> str:
    """The supported size whose shape is closest to the asked aspect ratio."""
    width_part, _, height_part = aspect_ratio.partition(":")
    wanted = float(width_part) / float(height_part)
    width, height = min(_SIZES[family], key=lambda size: abs(size[0] / size[1] - wanted))
    return f"{width}x{height}"


class AzureOpenAIProvider:
    name = "azure-openai"

    def __init__(self, client: AsyncAzureOpenAI, families: dict[str, ModelFamily]) -> None:
        self._client = client
        self._families = families

    async def generate(self, call: ImageCall) -> ProviderResult:
        family = self._families[call.model]
        size = nearest_size(family, call.aspect_ratio)
        try:
            response = await self._client.images.generate(
                model=call.model,
                prompt=call.prompt,
                size=size,
                n=1,
                # dall-e-3 answers with a short-lived URL unless asked for the bytes; gpt-image always
                # returns bytes and refuses the parameter.
                response_format="b64_json" if family is ModelFamily.DALL_E_3 else openai.omit,
            )
        except openai.APIStatusError as exc:
            raise _classify_status_error(exc) from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise transient_error(f"Azure OpenAI did not answer: {type(exc).__name__}") from exc
        except (openai.APIResponseValidationError, json.JSONDecodeError) as exc:
            raise transient_error("Azure OpenAI answered with a malformed body") from exc
        images: list[ProviderImage] = []
        revised_prompt = None
        for item in response.data or []:
            if item.b64_json:
                images.append(ProviderImage(data=base64.b64decode(item.b64_json)))
            revised_prompt = revised_prompt or item.revised_prompt
        if not images:
            raise ProviderError(ErrorCode.NO_IMAGE, "Azure OpenAI returned no image.")
        usage = None
        if response.usage is not None:
            usage = {
                "inputTokens": response.usage.input_tokens,
                "outputTokens": response.usage.output_tokens,
                "totalTokens": response.usage.total_tokens,
            }
        return ProviderResult(images=images, revised_prompt=revised_prompt, usage=usage, size=size)


def _classify_status_error(exc: openai.APIStatusError) -> ProviderError:
    status = exc.status_code
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body, dict) else {}
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    message = f"Azure OpenAI answered {status}: {exc.message}"
    if status == 429 or status >= 500 or status == 408:
        return transient_error(
            message, retry_after=parse_retry_after(exc.response.headers.get("retry-after"))
        )
    if code in {"content_policy_violation", "content_filter", "moderation_blocked"}:
        return ProviderError(ErrorCode.CONTENT_POLICY, message)
    return ProviderError(ErrorCode.INVALID_INPUT, message)


def create_provider(settings: Settings, catalog: ProviderCatalog) -> AzureOpenAIProvider:
    if not settings.azure_openai_endpoint:
        raise RuntimeError("AZURE_OPENAI_ENDPOINT is not set")
    if settings.azure_openai_api_key:
        api_key: str | None = settings.azure_openai_api_key.get_secret_value()
        token_provider = None
    else:
        from azure.identity.aio import get_bearer_token_provider

        from shared.azure_clients import get_credential

        api_key = None
        token_provider = get_bearer_token_provider(
            get_credential(settings), "https://cognitiveservices.azure.com/.default"
        )
    client = AsyncAzureOpenAI(
        azure_endpoint=settings.azure_openai_endpoint,
        api_version=settings.azure_openai_api_version,
        api_key=api_key,
        azure_ad_token_provider=token_provider,
        # Retries happen through the queue with back-off, not inside one invocation.
        max_retries=0,
        timeout=settings.provider_timeout_seconds,
    )
    families = {model: ModelFamily(family) for model, family in settings.azure_openai_deployments.items()}
    return AzureOpenAIProvider(client, families)
