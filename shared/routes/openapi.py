"""`GET /api/openapi.json` (anonymous): the OpenAPI 3.1 document of every registered route."""

from __future__ import annotations

import json
from functools import lru_cache

import azure.functions as func

from shared.http.handler import api_endpoint
from shared.openapi import Auth, build_document, operation

bp = func.Blueprint()


@lru_cache(maxsize=1)
def _document() -> str:
    # Built on first request, when function_app has imported (and so registered) every route module.
    return json.dumps(build_document(), separators=(",", ":"))


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@operation(
    "GET", "openapi.json", summary="This document", auth=Auth.NONE, responses={200: "application/json"}
)
@api_endpoint
async def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(_document(), status_code=200, mimetype="application/json", charset="utf-8")
