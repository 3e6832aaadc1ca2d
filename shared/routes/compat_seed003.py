"""Seed 003: `POST /api/v1/agents/images`, synchronous generate/edit in the seed's envelopes
(`shared.compat.seed003` does the work)."""

from __future__ import annotations

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import WRITE_SCOPE, authenticate
from shared.http.endpoint import Auth, Deferred, endpoint
from shared.http.responses import json_response
from shared.http.urls import api_base_url

bp = func.Blueprint()

ROUTE = "v1/agents/images"

# The family's modules load with its first request: most requests never use them.
_MODELS = "shared.compat.seed003_models"
ERROR_SHAPE = Deferred("shared.compat.seed003", "ERROR_SHAPE")


@endpoint(
    bp, "POST", ROUTE, summary="Seed 003: generate or edit one image, synchronously", auth=Auth.WRITE,
    request=Deferred(_MODELS, "AgentImageRequest"), responses={200: Deferred(_MODELS, "AgentImageResponse")},
    errors=(400, 401, 403, 500, 503, 504), tags=("seed 003",), error_shape=ERROR_SHAPE,
)  # fmt: skip
async def agent_images(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed003

    ctx = get_context()
    # The tenant (the seed's orgId) is the token's: a gateway's X-Org-ID header is not trusted.
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    request = seed003.parse_request(req.get_body())
    seed003.check_request(ctx, request)
    response = await seed003.generate(ctx, principal, request, api_base_url=api_base_url(req, ctx.settings))
    return json_response(response)
