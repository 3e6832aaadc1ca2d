"""`GET /api/openapi.json` (anonymous): the OpenAPI 3.1 document of every registered route, its server
the absolute URL the API was reached at (PUBLIC_API_BASE_URL behind a gateway)."""

from __future__ import annotations

import json
from functools import lru_cache

import azure.functions as func

from shared.http.handler import api_endpoint
from shared.http.urls import api_base_url
from shared.openapi import Auth, build_document, operation
from shared.settings import get_settings

bp = func.Blueprint()


# A few bases at most (the public URL, the host's own name): one document each, built on first request,
# when function_app has imported (and so registered) every route module.
@lru_cache(maxsize=8)
def _document(server_url: str) -> str:
    return json.dumps(build_document(server_url=server_url), separators=(",", ":"))


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@operation(
    "GET", "openapi.json", summary="This document", auth=Auth.NONE, responses={200: "application/json"}
)
@api_endpoint
async def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    document = _document(api_base_url(req, get_settings()))
    return func.HttpResponse(document, status_code=200, mimetype="application/json", charset="utf-8")
