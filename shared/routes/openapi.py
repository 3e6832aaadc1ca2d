"""`GET /api/openapi.json` (anonymous): the OpenAPI 3.1 document of the app's HTTP functions, its server
the absolute URL the API was reached at (PUBLIC_API_BASE_URL behind a gateway).

The one route family built for an app (`document_blueprint(app)`): the document is read from the app's
own functions, so function_app.py hands the app over when it wires this blueprint.
"""

from __future__ import annotations

import json
from functools import lru_cache

import azure.functions as func

from shared.http.endpoint import Auth, declared_operations, endpoint
from shared.http.urls import api_base_url
from shared.settings import get_settings


def document_blueprint(app: func.FunctionApp) -> func.Blueprint:
    bp = func.Blueprint()

    # A few bases at most (the public URL, the host's own name): one document each, built on first request
    # (the JSON schemas of every model are work a cold start should not do).
    @lru_cache(maxsize=8)
    def document(server_url: str) -> str:
        from shared.openapi import build_document

        built = build_document(declared_operations(app), server_url=server_url)
        return json.dumps(built, separators=(",", ":"))

    @endpoint(
        bp, "GET", "openapi.json", summary="This document", auth=Auth.NONE,
        responses={200: "application/json"},
    )  # fmt: skip
    async def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
        body = document(api_base_url(req, get_settings()))
        return func.HttpResponse(body, status_code=200, mimetype="application/json", charset="utf-8")

    return bp
