"""The simulator's HTTP surface: Gemini `generateContent`, Azure OpenAI images, and `/_sim` controls."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import time
from typing import Any, NamedTuple

from aiohttp import BodyPartReader, web

from devtools.simulator.images import render, size_for_aspect_ratio
from devtools.simulator.state import FAULT_KINDS, Fault, ModelQuota, SimulatorState

STATE_KEY: web.AppKey[SimulatorState] = web.AppKey("state", SimulatorState)


def create_app(state: SimulatorState | None = None) -> web.Application:
    app = web.Application(client_max_size=200 * 1024 * 1024, middlewares=[count_calls])
    app[STATE_KEY] = state or SimulatorState()
    app.router.add_post("/{version}/models/{model_action}", gemini_generate)
    app.router.add_post("/openai/deployments/{deployment}/images/generations", azure_generate)
    app.router.add_post("/openai/deployments/{deployment}/images/edits", azure_edit)
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", azure_chat)
    app.router.add_get("/_sim/requests", list_requests)
    app.router.add_delete("/_sim/requests", clear_requests)
    app.router.add_post("/_sim/faults", add_fault)
    app.router.add_delete("/_sim/faults", clear_faults)
    app.router.add_post("/_sim/config", configure)
    app.router.add_get("/_sim/config", show_config)
    app.router.add_get("/_sim/health", health)
    app.router.add_get("/_sim/stats", stats)
    return app


@web.middleware
async def count_calls(request: web.Request, handler: Any) -> web.StreamResponse:
    """Count the provider calls being answered, so that a benchmark can see how many are in flight."""
    if request.path.startswith("/_sim/"):
        return await handler(request)
    state = request.app[STATE_KEY]
    started = state.call_started()
    try:
        return await handler(request)
    finally:
        state.call_answered(started)


# --- controls -------------------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def list_requests(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].requests)


async def clear_requests(request: web.Request) -> web.Response:
    request.app[STATE_KEY].clear_records()
    return web.Response(status=204)


async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response(
        {
            "inFlight": state.calls_in_flight,
            "maxInFlight": state.max_calls_in_flight,
            "answered": state.calls_answered,
            "callSeconds": state.call_seconds,
        }
    )


async def add_fault(request: web.Request) -> web.Response:
    body = await request.json()
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        return web.json_response({"error": f"kind must be one of {sorted(FAULT_KINDS)}"}, status=400)
    fault = Fault(
        kind=kind,
        remaining=int(body.get("count", 1)),
        provider=body.get("provider"),
        model=body.get("model"),
        retry_after=body.get("retryAfter"),
        delay_seconds=float(body.get("delaySeconds", 0)),
    )
    request.app[STATE_KEY].faults.append(fault)
    return web.json_response({"kind": fault.kind, "remaining": fault.remaining}, status=201)


async def clear_faults(request: web.Request) -> web.Response:
    request.app[STATE_KEY].faults.clear()
    return web.Response(status=204)


async def configure(request: web.Request) -> web.Response:
    body = await request.json()
    state = request.app[STATE_KEY]
    spread = int(body.get("latencySpreadMs") or 0)
    if spread < 0:
        return web.json_response({"error": "latencySpreadMs must be 0 or more"}, status=400)
    if "latencyMs" in body:
        state.latency_ms = int(body["latencyMs"])
    if "latencySpreadMs" in body:
        state.latency_spread_ms = spread
    if "seed" in body:
        state.seed_latencies(_optional_int(body["seed"]))
    if "quotaPerMinute" in body:
        quota = body["quotaPerMinute"]
        state.quota_per_minute = None if quota is None else int(quota)
        state._calls.clear()
    if "quotas" in body:
        quotas = body["quotas"] or {}
        state.model_quotas = {
            str(model): ModelQuota(
                requests_per_minute=_optional_int(limits.get("requestsPerMinute")),
                images_per_minute=_optional_int(limits.get("imagesPerMinute")),
            )
            for model, limits in quotas.items()
        }
        state._calls.clear()
    if "randomFaults" in body:
        random_faults = body["randomFaults"] or {}
        kinds = list(random_faults.get("kinds") or [])
        if unknown := set(kinds) - FAULT_KINDS:
            return web.json_response({"error": f"unknown fault kinds {sorted(unknown)}"}, status=400)
        state.random_fault_rate = float(random_faults.get("rate", 0))
        state.random_fault_kinds = kinds
        state.random_fault_delay_seconds = float(random_faults.get("delaySeconds", 2))
    return await show_config(request)


async def show_config(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response(
        {
            "latencyMs": state.latency_ms,
            "latencySpreadMs": state.latency_spread_ms,
            "seed": state.latency_seed,
            "quotaPerMinute": state.quota_per_minute,
            "quotas": {
                model: {"requestsPerMinute": q.requests_per_minute, "imagesPerMinute": q.images_per_minute}
                for model, q in state.model_quotas.items()
            },
            "randomFaults": {"rate": state.random_fault_rate, "kinds": state.random_fault_kinds},
        }
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


# --- Gemini ---------------------------------------------------------------------------------------


async def gemini_generate(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    model, _, action = request.match_info["model_action"].partition(":")
    if action != "generateContent":
        return _gemini_error(404, "NOT_FOUND", f"unsupported action {action!r}")
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _gemini_error(400, "INVALID_ARGUMENT", "body is not JSON")
    texts, references = _gemini_inputs(body)
    prompt = texts[0] if texts else ""
    generation_config = body.get("generationConfig") or {}
    image_config = generation_config.get("imageConfig") or {}
    aspect_ratio = image_config.get("aspectRatio") or "1:1"
    wants_image = "IMAGE" in [m.upper() for m in generation_config.get("responseModalities") or ["IMAGE"]]
    entry = state.record(
        {
            "provider": "gemini",
            "kind": "image" if wants_image else "text",
            "model": model,
            "path": request.path,
            "query": dict(request.query),
            "apiKey": request.headers.get("x-goog-api-key"),
            "prompt": prompt,
            "texts": texts,
            "aspectRatio": aspect_ratio,
            "imageSize": image_config.get("imageSize"),
            "references": [_describe_bytes(data, mime) for data, mime in references],
            "body": _redact_inline_data(body),
        }
    )
    if not request.headers.get("x-goog-api-key") and "key" not in request.query:
        return _gemini_error(401, "UNAUTHENTICATED", "API key not valid.")
    picture = _gemini_picture(image_config)
    reference = references[0][0] if references else None
    drawing = _draw_ahead(prompt, picture, reference) if wants_image else None
    fault = state.take_fault("gemini", model)
    early = await _apply_transport_fault(fault, state, "gemini", model, entry, images=1 if wants_image else 0)
    if early is not None:
        return early
    if fault and fault.kind == "prompt_blocked":
        return web.json_response({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}})
    if not wants_image:
        return web.json_response(_gemini_text_answer(body, prompt, model))
    if fault and fault.kind == "safety":
        return web.json_response(
            {
                "candidates": [
                    {"finishReason": "IMAGE_SAFETY", "index": 0, "content": {"role": "model", "parts": []}}
                ]
            }
        )
    if fault and fault.kind == "no_image":
        return web.json_response(
            {
                "candidates": [
                    {
                        "finishReason": "STOP",
                        "index": 0,
                        "content": {
                            "role": "model",
                            "parts": [{"text": "I can only describe this image in words."}],
                        },
                    }
                ]
            }
        )
    if not isinstance(picture, _Picture):
        return picture
    assert drawing is not None
    data = await drawing
    mime = image_config.get("outputMimeType") or "image/png"
    prompt_tokens = max(1, len(prompt.split()))
    return web.json_response(
        {
            "candidates": [
                {
                    "finishReason": "STOP",
                    "index": 0,
                    "content": {
                        "role": "model",
                        "parts": [
                            {"text": f"Here is an image of: {prompt[:80]}"},
                            {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}},
                        ],
                    },
                }
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": 1290,
                "totalTokenCount": prompt_tokens + 1290,
            },
            "modelVersion": model,
        }
    )


def _gemini_picture(image_config: dict[str, Any]) -> _Picture | web.Response:
    """The image a `generateContent` call asks for, or the error it gets for an unsupported one."""
    aspect_ratio = image_config.get("aspectRatio") or "1:1"
    try:
        width, height = size_for_aspect_ratio(aspect_ratio)
    except (ValueError, ZeroDivisionError):
        return _gemini_error(400, "INVALID_ARGUMENT", f"unsupported aspect ratio {aspect_ratio!r}")
    scale = {"1K": 1, "2K": 2, "4K": 4}.get(str(image_config.get("imageSize") or "1K").upper())
    if scale is None:
        return _gemini_error(
            400, "INVALID_ARGUMENT", f"unsupported image size {image_config.get('imageSize')!r}"
        )
    mime = image_config.get("outputMimeType") or "image/png"
    return _Picture(width * scale, height * scale, "JPEG" if mime == "image/jpeg" else "PNG")


def _gemini_text_answer(body: dict[str, Any], prompt: str, model: str) -> dict[str, Any]:
    """A text model's answer: the prompt, 'enhanced' visibly and deterministically."""
    instruction = " ".join(
        part.get("text", "") for part in ((body.get("systemInstruction") or {}).get("parts") or [])
    )
    style = instruction.rpartition("Style:")[2].strip().split(":")[0] or "balanced"
    text = f"{prompt}, rendered as {style}, with careful lighting and composition"
    return {
        "candidates": [
            {"finishReason": "STOP", "index": 0, "content": {"role": "model", "parts": [{"text": text}]}}
        ],
        "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 30, "totalTokenCount": 70},
        "modelVersion": model,
    }


def _gemini_inputs(body: dict[str, Any]) -> tuple[list[str], list[tuple[bytes, str]]]:
    texts: list[str] = []
    references: list[tuple[bytes, str]] = []
    for content in body.get("contents") or []:
        for part in content.get("parts") or []:
            if "text" in part:
                texts.append(part["text"])
            inline = part.get("inlineData")
            if inline:
                references.append((_decode_b64(inline.get("data", "")), inline.get("mimeType", "")))
    return texts, references


def _gemini_error(
    status: int, reason: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"code": status, "message": message, "status": reason}}, status=status, headers=headers
    )


# --- Azure OpenAI ---------------------------------------------------------------------------------


async def azure_generate(request: web.Request) -> web.StreamResponse:
    deployment = request.match_info["deployment"]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _azure_error(400, "invalid_request_error", "body is not JSON")
    return await _azure_answer(request, deployment, dict(body), references=[], mask=None)


async def azure_edit(request: web.Request) -> web.StreamResponse:
    deployment = request.match_info["deployment"]
    fields: dict[str, Any] = {}
    references: list[tuple[bytes, str]] = []
    mask: tuple[bytes, str] | None = None
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            return _azure_error(400, "invalid_request_error", "nested multipart bodies are not supported")
        name = part.name or ""
        if part.filename is not None:
            data = await part.read()
            entry = (bytes(data), part.headers.get("Content-Type", ""))
            if name == "mask":
                mask = entry
            else:
                references.append(entry)
        else:
            fields[name] = await part.text()
    return await _azure_answer(request, deployment, fields, references=references, mask=mask)


async def _azure_answer(
    request: web.Request,
    deployment: str,
    body: dict[str, Any],
    *,
    references: list[tuple[bytes, str]],
    mask: tuple[bytes, str] | None,
) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    prompt = str(body.get("prompt", ""))
    entry = state.record(
        {
            "provider": "azure-openai",
            "kind": "edit" if references else "image",
            "model": deployment,
            "path": request.path,
            "query": dict(request.query),
            "apiKey": request.headers.get("api-key"),
            "authorization": bool(request.headers.get("authorization")),
            "prompt": prompt,
            "body": body,
            "references": [_describe_bytes(data, mime) for data, mime in references],
            "mask": _describe_bytes(*mask) if mask else None,
        }
    )
    if not request.headers.get("api-key") and not request.headers.get("authorization"):
        return _azure_error(
            401, "401", "Access denied due to invalid subscription key or wrong API endpoint."
        )
    if "api-version" not in request.query:
        return _azure_error(404, "404", "Resource not found")
    picture = _azure_picture(body, deployment)
    drawing = _draw_ahead(prompt, picture, references[0][0] if references else None)
    fault = state.take_fault("azure-openai", deployment)
    images = _optional_int(body.get("n")) or 1
    early = await _apply_transport_fault(fault, state, "azure-openai", deployment, entry, images=images)
    if early is not None:
        return early
    if fault and fault.kind in ("safety", "prompt_blocked"):
        return _azure_error(
            400, "content_policy_violation", "Your request was rejected as a result of our safety system."
        )
    if fault and fault.kind == "no_image":
        return web.json_response({"created": int(time.time()), "data": []})
    if not isinstance(picture, _Picture):
        return picture
    assert drawing is not None
    data = await drawing
    dall_e = "dall-e" in deployment
    count = int(body.get("n") or 1)
    items: list[dict[str, Any]] = [{"b64_json": base64.b64encode(data).decode()} for _ in range(count)]
    answer: dict[str, Any] = {"created": int(time.time()), "data": items}
    if dall_e:
        items[0]["revised_prompt"] = f"A detailed rendering of {prompt}"
    else:
        input_tokens = max(1, len(prompt.split())) + 65 * len(references)
        answer["usage"] = {
            "input_tokens": input_tokens,
            "output_tokens": 272,
            "total_tokens": input_tokens + 272,
            "input_tokens_details": {
                "text_tokens": max(1, len(prompt.split())),
                "image_tokens": 65 * len(references),
            },
        }
        answer["size"] = f"{picture.width}x{picture.height}"
        answer["output_format"] = str(body.get("output_format") or "png").lower()
    return web.json_response(answer)


async def azure_chat(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    deployment = request.match_info["deployment"]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _azure_error(400, "invalid_request_error", "body is not JSON")
    messages = body.get("messages") or []
    system = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    prompt = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
    entry = state.record(
        {
            "provider": "azure-openai",
            "kind": "chat",
            "model": deployment,
            "path": request.path,
            "query": dict(request.query),
            "prompt": prompt,
            "system": system,
            "body": body,
        }
    )
    if not request.headers.get("api-key") and not request.headers.get("authorization"):
        return _azure_error(401, "401", "Access denied due to invalid subscription key.")
    fault = state.take_fault("azure-openai", deployment)
    early = await _apply_transport_fault(fault, state, "azure-openai", deployment, entry, images=0)
    if early is not None:
        return early
    style = system.rpartition("Style:")[2].strip().split(":")[0] or "balanced"
    text = f"{prompt}, rendered as {style}, with careful lighting and composition"
    return web.json_response(
        {
            "id": "chatcmpl-sim",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": deployment,
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 30, "total_tokens": 70},
        }
    )


def _azure_picture(body: dict[str, Any], deployment: str) -> _Picture | web.Response:
    """The image an images call asks for, or the error it gets for an unsupported one."""
    size = str(body.get("size") or "1024x1024")
    if size == "auto":
        size = "1024x1024"
    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        return _azure_error(400, "invalid_request_error", f"Invalid size {size!r}")
    if "dall-e" in deployment and int(body.get("n") or 1) != 1:
        return _azure_error(400, "invalid_request_error", "dall-e-3 only supports n=1")
    output_format = str(body.get("output_format") or "png").lower()
    return _Picture(width, height, {"jpeg": "JPEG", "webp": "WEBP"}.get(output_format, "PNG"))


def _azure_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "type": "invalid_request_error" if status == 400 else None,
            }
        },
        status=status,
        headers=headers,
    )


# --- shared ---------------------------------------------------------------------------------------


class _Picture(NamedTuple):
    width: int
    height: int
    image_format: str


def _draw_ahead(
    prompt: str, picture: _Picture | web.Response, reference: bytes | None
) -> asyncio.Future[bytes] | None:
    """Start drawing the answer's image in a thread as the call arrives. A provider's latency is the time
    until its answer, the image's making included: drawn after the configured latency, the images of calls
    arriving together would queue for the CPU and add to it."""
    if not isinstance(picture, _Picture):
        return None
    drawing = asyncio.ensure_future(
        asyncio.to_thread(
            render,
            prompt,
            picture.width,
            picture.height,
            image_format=picture.image_format,
            reference=reference,
        )
    )
    # A call answered without its image (a fault) never awaits the drawing: its outcome is collected here.
    drawing.add_done_callback(lambda done: done.cancelled() or done.exception())
    return drawing


async def _apply_transport_fault(
    fault: Fault | None,
    state: SimulatorState,
    provider: str,
    model: str,
    entry: dict[str, Any],
    *,
    images: int,
) -> web.StreamResponse | None:
    """Latency first, then the quota, then the faults that happen before any answer body is formed. The
    recorded `entry` notes the call's latency, its images and whether the quota refused it."""
    entry["latencyMs"] = latency_ms = state.call_latency_ms()
    if latency_ms:
        await asyncio.sleep(latency_ms / 1000)
    entry["images"] = images
    quota_wait = state.quota_wait(provider, model, images)
    if quota_wait is not None:
        entry["quotaRefused"] = True
        return _rate_limited(max(1, math.ceil(quota_wait)))
    entry["quotaAdmittedAt"] = time.time()
    if fault is None:
        return None
    if fault.kind == "hang":
        await asyncio.sleep(3600)
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_seconds)
    if fault.kind == "http_429":
        retry_after = fault.retry_after if fault.retry_after is not None else 1
        return web.json_response(
            {
                "error": {
                    "code": 429,
                    "message": "Resource has been exhausted (e.g. check quota).",
                    "status": "RESOURCE_EXHAUSTED",
                }
            },
            status=429,
            headers={
                "Retry-After": str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
            },
        )
    if fault.kind == "http_400":
        return web.json_response(
            {
                "error": {
                    "code": "invalid_request_error" if provider == "azure-openai" else 400,
                    "message": "The request is not valid for this model.",
                    "status": "INVALID_ARGUMENT",
                }
            },
            status=400,
        )
    if fault.kind == "http_500":
        return web.json_response(
            {"error": {"code": 500, "message": "Internal error.", "status": "INTERNAL"}}, status=500
        )
    if fault.kind == "http_503":
        return web.json_response(
            {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}},
            status=503,
        )
    if fault.kind == "malformed":
        return web.Response(status=200, text="<html>not json", content_type="application/json")
    return None


def _rate_limited(retry_after: float) -> web.Response:
    return web.json_response(
        {
            "error": {
                "code": 429,
                "message": "Requests per minute quota exceeded.",
                "status": "RESOURCE_EXHAUSTED",
            }
        },
        status=429,
        headers={"Retry-After": str(int(retry_after))},
    )


def _decode_b64(value: str) -> bytes:
    """Standard or URL-safe base64, padded or not (google-genai sends URL-safe without padding)."""
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))


def _describe_bytes(data: bytes, mime: str) -> dict[str, Any]:
    return {"mimeType": mime, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _redact_inline_data(value: Any) -> Any:
    """The request as sent, with base64 payloads replaced by their size and digest."""
    if isinstance(value, dict):
        if "inlineData" in value and isinstance(value["inlineData"], dict):
            inline = value["inlineData"]
            data = _decode_b64(inline.get("data", ""))
            return {**value, "inlineData": _describe_bytes(data, inline.get("mimeType", ""))}
        return {key: _redact_inline_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_inline_data(item) for item in value]
    return value
