"""The wrapper every HTTP function goes through: request id, error envelope, no leaked exceptions."""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from shared.errors import REQUEST_FIELD, ApiError, invalid_input, validation_error
from shared.models.errors import ErrorCode
from shared.store_keys import UnsafeStoreKeyError

logger = logging.getLogger(__name__)

Handler = Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Headers code below the handler (auth's rate-limit state) wants on the answer, whatever it turns out to be.
_extra_headers: ContextVar[dict[str, str] | None] = ContextVar("extra_response_headers", default=None)


def add_response_headers(headers: Mapping[str, str]) -> None:
    """Put `headers` on this request's answer, error answers included (no-op outside `wrap_handler`)."""
    extra = _extra_headers.get()
    if extra is not None:
        extra.update(headers)


ErrorRenderer = Callable[[ApiError], func.HttpResponse]


def wrap_handler(handler: Handler, render_error: ErrorRenderer) -> Handler:
    """`handler` with a request id, the extra headers, and every failure answered by `render_error` (the
    route family's error shape; `shared.http.endpoint` applies this to every HTTP function)."""

    @functools.wraps(handler)
    async def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        incoming = req.headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        extra: dict[str, str] = {}
        token = _extra_headers.set(extra)
        try:
            response = await handler(req)
        except ApiError as error:
            response = render_error(error)
        except UnsafeStoreKeyError as error:
            # A store refused an id the route should have checked first: a bug, but still bad input.
            logger.error("Unchecked id reached a store in %s %s: %s", req.method, req.url, error)
            response = render_error(validation_error(f"{REQUEST_FIELD}{error}"))
        except Exception:
            logger.exception("Unhandled error in %s %s (request %s)", req.method, req.url, request_id)
            response = render_error(
                ApiError(500, ErrorCode.INTERNAL_ERROR, f"Internal error; quote request id {request_id}.")
            )
        finally:
            _extra_headers.reset(token)
        for name, value in extra.items():
            if name not in response.headers:
                response.headers[name] = value
        response.headers["x-request-id"] = request_id
        return response

    return wrapper


def parse_json_body[ModelT: BaseModel](req: func.HttpRequest, model: type[ModelT]) -> ModelT:
    """The body as `model`; a non-JSON body or a field that does not validate is a 400 naming the field."""
    content_type = req.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json.")
    try:
        return model.model_validate_json(req.get_body() or b"")
    except ValidationError as exc:
        raise invalid_input(exc) from exc


def validate_body[ModelT: BaseModel](data: dict[str, object], model: type[ModelT]) -> ModelT:
    """Already-decoded fields as `model`, with the same 400 as a JSON body. Not strict: form fields are text
    (`"2"` is a number, `"true"` a boolean there), and the core's own dicts carry typed values."""
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        raise invalid_input(exc) from exc
