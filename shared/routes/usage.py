"""Native API: `/api/v1/usage`, the tenant's credits."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.credits.ledger import usage
from shared.http.auth import authenticate
from shared.http.endpoint import Auth, endpoint
from shared.http.responses import json_response
from shared.models.credits import UsageView

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@endpoint(
    bp, "GET", "v1/usage", summary="Credit balance, reserved and spent",
    auth=Auth.READ,
    responses={200: UsageView},
)  # fmt: skip
async def get_usage(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    return json_response(await usage(ctx, principal.tenant_id))
