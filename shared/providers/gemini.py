"""Google Gemini image models through google-genai's async client."""

from __future__ import annotations

import json
import logging

import aiohttp
import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from shared.models.errors import ErrorCode
from shared.net.proxy import reads_proxy_environment
from shared.providers.base import (
    ImageCall,
    ProviderError,
    ProviderImage,
    ProviderResult,
    generate_in_parallel,
    parse_retry_after,
    transient_error,
)
from shared.providers.catalog import ProviderCatalog
from shared.providers.parameters import gemini_aspect_ratio, gemini_image_size
from shared.settings import Settings

logger = logging.getLogger(__name__)

_BLOCKING_FINISH_REASONS = {
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "RECITATION",
}
# The app passes no tools: without this the SDK runs its automatic-function-calling loop around every
# call, logging a line (INFO) each time.
_NO_FUNCTION_CALLING = types.AutomaticFunctionCallingConfig(disable=True)
# google-genai's read buffer size for the session it makes (`_api_client.READ_BUFFER_SIZE`).
_READ_BUFFER_SIZE = 2**22


class GeminiProvider:
    name = "gemini"

    def __init__(
        self, client: genai.Client, session: aiohttp.ClientSession, *, text_model: str | None = None
    ) -> None:
        self._client = client
        self._session = session
        self._text_model = text_model

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        # The SDK leaves a session it was given to its owner.
        await self._session.close()

    async def generate(self, call: ImageCall) -> ProviderResult:
        # One image per generateContent call: n images are n parallel calls.
        return await generate_in_parallel([self._generate_one(call) for _ in range(call.spec.n)])

    async def _generate_one(self, call: ImageCall) -> ProviderResult:
        image_size = gemini_image_size(call.spec)
        config = types.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"],
            automatic_function_calling=_NO_FUNCTION_CALLING,
            image_config=types.ImageConfig(
                aspect_ratio=gemini_aspect_ratio(call.spec), image_size=image_size
            ),
        )
        parts: list[types.Part] = [
            types.Part(inline_data=types.Blob(data=image.data, mime_type=image.mime_type))
            for image in call.references
        ]
        parts.append(types.Part(text=call.prompt))
        if call.spec.negative_prompt:
            # Gemini has no negative-prompt parameter; the model honours it stated in the prompt.
            parts.append(types.Part(text=f"Avoid in the image: {call.spec.negative_prompt}"))
        response = await self._call(call.model, types.Content(role="user", parts=parts), config)
        return _read_response(response)

    async def complete_text(self, instruction: str, text: str) -> str:
        if not self._text_model:
            raise ProviderError(
                ErrorCode.INVALID_INPUT, "No Gemini text model is configured (GEMINI_TEXT_MODEL)."
            )
        config = types.GenerateContentConfig(
            system_instruction=instruction,
            response_modalities=["TEXT"],
            automatic_function_calling=_NO_FUNCTION_CALLING,
        )
        response = await self._call(self._text_model, text, config)
        answer = (response.text or "").strip()
        if not answer:
            raise ProviderError(ErrorCode.NO_IMAGE, "Gemini's text model returned no text.")
        return answer

    async def _call(
        self, model: str, contents: types.ContentListUnion, config: types.GenerateContentConfig
    ) -> types.GenerateContentResponse:
        try:
            return await self._client.aio.models.generate_content(
                model=model, contents=contents, config=config
            )
        except genai_errors.APIError as exc:
            raise _classify_api_error(exc) from exc
        except (TimeoutError, aiohttp.ClientError, httpx.HTTPError) as exc:
            raise transient_error(f"Gemini did not answer: {type(exc).__name__}") from exc
        except json.JSONDecodeError as exc:
            # A gateway's HTML error page or a cut-off body: the same call may well succeed next time.
            raise transient_error("Gemini answered with a malformed body") from exc


def _classify_api_error(exc: genai_errors.APIError) -> ProviderError:
    code = exc.code or 0
    message = f"Gemini answered {code}: {exc.message or exc.status or 'error'}"
    if code == 429 or code >= 500 or code == 408:
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        return transient_error(
            message, retry_after=parse_retry_after(headers.get("Retry-After")), rate_limited=code == 429
        )
    return ProviderError(ErrorCode.INVALID_INPUT, message)


def _read_response(response: types.GenerateContentResponse) -> ProviderResult:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        raise ProviderError(ErrorCode.CONTENT_POLICY, f"Gemini blocked the prompt: {feedback.block_reason}")
    candidates = response.candidates or []
    images: list[ProviderImage] = []
    texts: list[str] = []
    finish_reason = None
    for candidate in candidates:
        finish_reason = candidate.finish_reason
        for part in (candidate.content.parts if candidate.content else None) or []:
            if part.inline_data is not None and part.inline_data.data:
                images.append(ProviderImage(data=part.inline_data.data, mime_type=part.inline_data.mime_type))
            elif part.text and not part.thought:
                texts.append(part.text)
    text = "\n".join(texts) or None
    reason = str(getattr(finish_reason, "value", finish_reason) or "")
    if not images and reason in _BLOCKING_FINISH_REASONS:
        raise ProviderError(ErrorCode.CONTENT_POLICY, f"Gemini withheld the image: finishReason {reason}")
    if not images:
        detail = f" The model said: {text}" if text else ""
        raise ProviderError(ErrorCode.NO_IMAGE, f"Gemini returned no image.{detail}")
    return ProviderResult(images=images, text=text, usage=_usage(response))


def _usage(response: types.GenerateContentResponse) -> dict[str, int] | None:
    metadata = response.usage_metadata
    if metadata is None or metadata.total_token_count is None:
        return None
    return {
        "inputTokens": metadata.prompt_token_count or 0,
        "outputTokens": metadata.candidates_token_count or 0,
        "totalTokens": metadata.total_token_count,
    }


def _http_session(settings: Settings) -> aiohttp.ClientSession:
    """The session google-genai would make for itself (no connection limit, its 4 MiB read buffer), except
    that it reads the proxy settings only when a proxy is configured. The SDK still passes its own TLS
    context with every request. Made on the running loop (providers are made on first use, in a job)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        trust_env=reads_proxy_environment(settings),
        read_bufsize=_READ_BUFFER_SIZE,
    )


def create_provider(settings: Settings, catalog: ProviderCatalog) -> GeminiProvider:
    if settings.gemini_api_key is None:
        raise RuntimeError("GEMINI_API_KEY is not set")
    session = _http_session(settings)
    http_options = types.HttpOptions(
        base_url=settings.gemini_base_url,
        timeout=int(settings.provider_timeout_seconds * 1000),
        aiohttp_client=session,
    )
    client = genai.Client(api_key=settings.gemini_api_key.get_secret_value(), http_options=http_options)
    return GeminiProvider(client, session, text_model=settings.gemini_text_model or None)
