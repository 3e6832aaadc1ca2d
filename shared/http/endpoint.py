"""How an HTTP function is declared: one decorator states its route, method, who may call it, its models
and its error shape, registers it with its blueprint and wraps it (`shared.http.handler.wrap_handler`).
The OpenAPI document (`shared.openapi`) is built from these declarations as the app holds them.

    @endpoint(bp, "GET", "v1/things/{thing_id}", summary="Read a thing", auth=Auth.READ,
              responses={200: ThingView}, errors=(404,))
    async def get_thing(req: func.HttpRequest) -> func.HttpResponse: ...

- The host serves every route anonymously (no function keys): `auth` is what the app itself checks (an
  API key or token with a scope, the admin key), and what the document states.
- `request`: the body model (JSON unless `request_content_types` says otherwise); `query`: a model whose
  fields are the query parameters. Path parameters come from the route template.
- `responses`: status → model, `None` (no body) or a media type string (a binary body, e.g. `"image/png"`;
  several comma-separated, `"image/png,image/jpeg,image/webp"`).
- `errors`: statuses this route answers in its error shape besides those its `auth` implies
  (401/403/429/503 for callers, 401 for admin routes) and 500, which every route may answer.
- `error_shape`: the native envelope unless a route family's document defines its own error body.
- The operation id is the function's name (`shared/openapi_examples.json` is keyed by it).
- A model or the error shape may be given as `Deferred(module, name)`: a route family whose code most
  requests never run declares its functions without importing it, so the host still indexes every
  function at start-up while that family's modules load with its first request (or with the document).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

import azure.functions as func
from pydantic import BaseModel

from shared.errors import ApiError
from shared.http.handler import ErrorRenderer, Handler, wrap_handler
from shared.http.responses import error_response
from shared.models.errors import ErrorEnvelope

ResponseBody = type[BaseModel] | str | None


@dataclass(frozen=True)
class Deferred:
    """The attribute `name` of the module `module`, imported when it is first needed."""

    module: str
    name: str

    def resolve(self) -> Any:
        return getattr(importlib.import_module(self.module), self.name)


def _resolved[T](value: T | Deferred) -> T:
    return value.resolve() if isinstance(value, Deferred) else value


# The attribute of the wrapped function that carries its declaration (a function that returns it).
_DECLARATION = "__api_operation__"


class Auth(StrEnum):
    NONE = "none"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


@dataclass(frozen=True)
class ErrorShape:
    """A family's error body: the model the document shows and the renderer that answers with it."""

    model: type[BaseModel]
    render: ErrorRenderer


NATIVE_ERRORS = ErrorShape(ErrorEnvelope, error_response)


@dataclass(frozen=True)
class Operation:
    method: str
    route: str
    operation_id: str
    summary: str
    auth: Auth
    responses: Mapping[int, ResponseBody]
    request: type[BaseModel] | None = None
    request_content_types: tuple[str, ...] = ("application/json",)
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)
    error_shape: ErrorShape = NATIVE_ERRORS

    @property
    def error_statuses(self) -> list[int]:
        # 503: a token's issuer could not be reached for its signing keys.
        caller = (401, 403, 429, 503)
        implied = {Auth.NONE: (), Auth.ADMIN: (401,), Auth.READ: caller, Auth.WRITE: caller}
        return sorted({*implied[self.auth], *self.errors, 500} - set(self.responses))


def endpoint(
    bp: func.Blueprint,
    method: str,
    route: str,
    *,
    summary: str,
    auth: Auth,
    responses: Mapping[int, ResponseBody | Deferred],
    request: type[BaseModel] | Deferred | None = None,
    request_content_types: tuple[str, ...] = ("application/json",),
    query: type[BaseModel] | Deferred | None = None,
    errors: tuple[int, ...] = (),
    tags: tuple[str, ...] = (),
    error_shape: ErrorShape | Deferred = NATIVE_ERRORS,
) -> Callable[[Handler], Any]:
    """Declare the decorated handler as the HTTP function `method route` of `bp` (the decorator returns
    what `bp.route` does: the SDK's function builder, still callable as the handler)."""

    def declare(handler: Handler) -> Any:
        @cache
        def operation() -> Operation:
            return Operation(
                method=method.upper(),
                route=route,
                operation_id=handler.__name__,
                summary=summary,
                auth=auth,
                responses={status: _resolved(body) for status, body in responses.items()},
                request=_resolved(request),
                request_content_types=request_content_types,
                query=_resolved(query),
                errors=errors,
                tags=tags or (route.split("/")[1] if route.startswith("v1/") else route.split("/")[0],),
                error_shape=_resolved(error_shape),
            )

        def render_error(error: ApiError) -> func.HttpResponse:
            return operation().error_shape.render(error)

        wrapped = wrap_handler(handler, render_error)
        setattr(wrapped, _DECLARATION, operation)
        trigger = bp.route(route=route, methods=[method.upper()], auth_level=func.AuthLevel.ANONYMOUS)
        return trigger(wrapped)

    return declare


def declared_operations(app: func.FunctionApp) -> list[Operation]:
    """The operations of `app`'s HTTP functions. An HTTP function declared some other way is an error: it
    would be served but missing from the document."""
    operations = []
    # From the app's function builders: `get_functions()` builds the same functions, but refuses a second
    # call in one process (its duplicate-name check), and the Functions worker has made the first.
    for builder in app._function_builders:
        function = builder.build(app.auth_level)
        if not function.is_http_function():
            continue
        operation = getattr(function.get_user_function(), _DECLARATION, None)
        if operation is None:
            raise RuntimeError(
                f"HTTP function {function.get_function_name()} is not declared with shared.http.endpoint"
            )
        operations.append(operation())
    return operations
