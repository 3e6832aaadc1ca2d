"""Seed 003: `POST /api/v1/agents/images`, synchronous generate/edit in the seed's envelopes
(`shared.compat.seed003` does the work)."""

from __future__ import annotations

import azure.functions as func

from shared.app_context import get_context
from shared.compat import seed003
from shared.compat.seed003_models import (
    AgentErrorBody,
    AgentErrorResponse,
    AgentImageRequest,
    AgentImageResponse,
)
from shared.errors import ApiError
from shared.http.auth import WRITE_SCOPE, authenticate
from shared.http.endpoint import Auth, ErrorShape, endpoint
from shared.http.responses import json_response
from shared.http.urls import api_base_url

bp = func.Blueprint()

ROUTE = "v1/agents/images"


def render_error(error: ApiError) -> func.HttpResponse:
    """Every failure as `{error: {code, message, details}, metadata: {success: false, timestamp}}`."""
    seed = seed003.seed_error(error)
    body = AgentErrorResponse(
        error=AgentErrorBody(code=seed.code, message=seed.message, details=seed.details),
        metadata=seed003.metadata(success=False),
    )
    return json_response(body, status=seed.status, headers=dict(seed.headers))


ERROR_SHAPE = ErrorShape(AgentErrorResponse, render_error)


@endpoint(
    bp, "POST", ROUTE, summary="Seed 003: generate or edit one image, synchronously", auth=Auth.WRITE,
    request=AgentImageRequest, responses={200: AgentImageResponse},
    errors=(400, 401, 403, 500, 503, 504), tags=("seed 003",), error_shape=ERROR_SHAPE,
)  # fmt: skip
async def agent_images(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    # The tenant (the seed's orgId) is the token's: a gateway's X-Org-ID header is not trusted.
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    request = seed003.parse_request(req.get_body())
    seed003.check_request(ctx, request)
    response = await seed003.generate(
        ctx, principal.tenant_id, request, api_base_url=api_base_url(req, ctx.settings)
    )
    return json_response(response)
