"""Azure OpenAI image deployments (gpt-image-*, dall-e-3) through the openai SDK's AsyncAzureOpenAI."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
from openai import AsyncAzureOpenAI

from shared.images.inspect import EXTENSION_BY_MIME
from shared.models.errors import ErrorCode
from shared.providers.base import (
    ImageCall,
    ProviderError,
    ProviderImage,
    ProviderResult,
    generate_in_parallel,
    parse_retry_after,
    transient_error,
)
from shared.providers.catalog import ModelFamily, ProviderCatalog
from shared.providers.parameters import (
    azure_quality_for,
    azure_size_for,
    azure_style_for,
    nearest_azure_size,
)
from shared.settings import Settings

logger = logging.getLogger(__name__)


def nearest_size(family: ModelFamily, aspect_ratio: str) -> str:
    """The supported size whose shape is closest to the asked aspect ratio."""
    return nearest_azure_size(family, aspect_ratio)


class AzureOpenAIProvider:
    name = "azure-openai"

    def __init__(
        self,
        client: AsyncAzureOpenAI,
        families: dict[str, ModelFamily],
        *,
        chat_deployment: str | None = None,
    ) -> None:
        self._client = client
        self._families = families
        self._chat_deployment = chat_deployment

    async def aclose(self) -> None:
        await self._client.close()

    async def generate(self, call: ImageCall) -> ProviderResult:
        family = self._families[call.model]
        if family is ModelFamily.GPT_IMAGE:
            return await self._images(call, family, call.spec.n)
        # dall-e-3 draws one image per request: n images are n parallel requests.
        return await generate_in_parallel([self._images(call, family, 1) for _ in range(call.spec.n)])

    async def _images(self, call: ImageCall, family: ModelFamily, n: int) -> ProviderResult:
        spec = call.spec
        size = azure_size_for(family, spec)
        options: dict[str, Any] = {
            "model": call.model,
            "prompt": call.prompt,
            "size": size,
            "n": n,
            "quality": azure_quality_for(family, spec),
        }
        if family is ModelFamily.DALL_E_3:
            # dall-e-3 answers with a short-lived URL unless asked for the bytes; gpt-image always
            # returns bytes and refuses the parameter.
            options["response_format"] = "b64_json"
            style = azure_style_for(family, spec)
            if style:
                options["style"] = style
        elif spec.output_format:
            options["output_format"] = spec.output_format
            if spec.output_compression is not None and spec.output_format != "png":
                options["output_compression"] = spec.output_compression
        with _provider_errors():
            if call.references:
                images = [
                    (
                        f"image-{index}.{EXTENSION_BY_MIME.get(image.mime_type, 'png')}",
                        image.data,
                        image.mime_type,
                    )
                    for index, image in enumerate(call.references)
                ]
                mask = ("mask.png", call.mask.data, "image/png") if call.mask else openai.omit
                response = await self._client.images.edit(
                    image=images if len(images) > 1 else images[0], mask=mask, **options
                )
            else:
                response = await self._client.images.generate(**options)
        images_out: list[ProviderImage] = []
        revised_prompt = None
        for item in response.data or []:
            if item.b64_json:
                images_out.append(ProviderImage(data=base64.b64decode(item.b64_json)))
            revised_prompt = revised_prompt or item.revised_prompt
        if not images_out:
            raise ProviderError(ErrorCode.NO_IMAGE, "Azure OpenAI returned no image.")
        usage = None
        if response.usage is not None:
            usage = {
                "inputTokens": response.usage.input_tokens,
                "outputTokens": response.usage.output_tokens,
                "totalTokens": response.usage.total_tokens,
            }
        return ProviderResult(images=images_out, revised_prompt=revised_prompt, usage=usage, size=size)

    async def complete_text(self, instruction: str, text: str) -> str:
        if not self._chat_deployment:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                "No Azure OpenAI chat deployment is configured (AZURE_OPENAI_CHAT_DEPLOYMENT).",
            )
        with _provider_errors():
            response = await self._client.chat.completions.create(
                model=self._chat_deployment,
                messages=[{"role": "system", "content": instruction}, {"role": "user", "content": text}],
            )
        answer = (response.choices[0].message.content if response.choices else None) or ""
        if not answer.strip():
            raise ProviderError(ErrorCode.NO_IMAGE, "The Azure OpenAI chat deployment returned no text.")
        return answer.strip()


@contextmanager
def _provider_errors() -> Iterator[None]:
    """Every Azure OpenAI call's failures as ProviderErrors: classified statuses, transient transport and
    malformed-body failures."""
    try:
        yield
    except openai.APIStatusError as exc:
        raise _classify_status_error(exc) from exc
    except (openai.APITimeoutError, openai.APIConnectionError) as exc:
        raise transient_error(f"Azure OpenAI did not answer: {type(exc).__name__}") from exc
    except (openai.APIResponseValidationError, json.JSONDecodeError) as exc:
        raise transient_error("Azure OpenAI answered with a malformed body") from exc


def _classify_status_error(exc: openai.APIStatusError) -> ProviderError:
    status = exc.status_code
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body, dict) else {}
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    message = f"Azure OpenAI answered {status}: {exc.message}"
    if status == 429 or status >= 500 or status == 408:
        return transient_error(
            message,
            retry_after=parse_retry_after(exc.response.headers.get("retry-after")),
            rate_limited=status == 429,
        )
    inner = (error.get("inner_error") or error.get("innererror")) if isinstance(error, dict) else None
    inner_code = str(inner.get("code") or "") if isinstance(inner, dict) else ""
    if code in {"content_policy_violation", "content_filter", "moderation_blocked"} or inner_code in {
        "ResponsibleAIPolicyViolation"
    }:
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
    return AzureOpenAIProvider(client, families, chat_deployment=settings.azure_openai_chat_deployment)
