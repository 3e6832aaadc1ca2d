"""One declaration per HTTP function: `endpoint` registers the trigger the host indexes, wraps the handler
in the declared error shape, and is where the app's operations are read from."""

from __future__ import annotations

import json

import azure.functions as func
import pytest
from pydantic import BaseModel

from shared.errors import ApiError, not_found
from shared.http.endpoint import Auth, Deferred, ErrorShape, declared_operations, endpoint
from shared.http.handler import wrap_handler
from shared.http.responses import error_response, json_response
from shared.store_keys import UnsafeStoreKeyError


class _FlatError(BaseModel):
    error: str


def _flat(error: ApiError) -> func.HttpResponse:
    return json_response(_FlatError(error=error.message), status=error.status)


class _Thing(BaseModel):
    name: str


_SHAPE = ErrorShape(_FlatError, _flat)


def _app(bp: func.Blueprint) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    app.register_functions(bp)
    return app


async def test_a_declared_function_is_an_anonymous_trigger_its_operation_and_its_error_shape() -> None:
    bp = func.Blueprint()
    shape = ErrorShape(_FlatError, _flat)

    @endpoint(
        bp, "get", "v1/things/{thing_id}", summary="A thing", auth=Auth.READ, responses={200: None},
        errors=(404,), error_shape=shape,
    )  # fmt: skip
    async def get_thing(req: func.HttpRequest) -> func.HttpResponse:
        raise not_found(f"Thing {req.route_params['thing_id']!r}")

    app = _app(bp)
    [operation] = declared_operations(app)
    [function] = app.get_functions()
    trigger = next(
        b for b in json.loads(function.get_function_json())["bindings"] if b["type"] == "httpTrigger"
    )
    request = func.HttpRequest("GET", "http://h/api/v1/things/t1", body=b"", route_params={"thing_id": "t1"})
    response = await get_thing(request)

    assert (trigger["route"], trigger["methods"], trigger["authLevel"]) == (
        "v1/things/{thing_id}", ["GET"], "ANONYMOUS",
    )  # fmt: skip
    assert (operation.operation_id, operation.method, operation.tags, operation.error_shape) == (
        "get_thing", "GET", ("things",), shape,
    )  # fmt: skip
    assert response.status_code == 404
    assert json.loads(response.get_body()) == {"error": "Thing 't1' was not found."}
    assert response.headers["x-request-id"]


def test_an_http_function_declared_otherwise_is_refused() -> None:
    bp = func.Blueprint()

    @bp.route(route="bare", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    async def bare(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(status_code=204)

    with pytest.raises(RuntimeError, match="HTTP function bare is not declared with shared.http.endpoint"):
        declared_operations(_app(bp))


async def test_deferred_models_and_error_shape_are_the_named_ones_in_the_operation_and_its_errors() -> None:
    bp = func.Blueprint()

    @endpoint(
        bp, "POST", "v1/things", summary="Make a thing", auth=Auth.WRITE,
        request=Deferred(__name__, "_Thing"), responses={201: Deferred(__name__, "_Thing")},
        error_shape=Deferred(__name__, "_SHAPE"),
    )  # fmt: skip
    async def make_thing(req: func.HttpRequest) -> func.HttpResponse:
        raise not_found("Shelf 's1'")

    response = await make_thing(func.HttpRequest("POST", "http://h/api/v1/things", body=b"{}"))
    [operation] = declared_operations(_app(bp))

    assert (operation.request, operation.responses, operation.error_shape) == (_Thing, {201: _Thing}, _SHAPE)
    assert response.status_code == 404
    assert json.loads(response.get_body()) == {"error": "Shelf 's1' was not found."}


async def test_an_id_a_store_refuses_is_a_400_in_the_error_shape_not_a_500() -> None:
    async def unchecked(req: func.HttpRequest) -> func.HttpResponse:
        raise UnsafeStoreKeyError("job id '..' is not a plain name")

    handler = wrap_handler(unchecked, error_response)
    response = await handler(func.HttpRequest("GET", "http://localhost/api/v1/jobs/..", body=b""))

    assert response.status_code == 400
    error = json.loads(response.get_body())["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"] == "Invalid request: job id '..' is not a plain name"
