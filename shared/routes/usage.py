"""Native API: `/api/v1/usage`, the tenant's credits."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.credits.ledger import usage
from shared.http.auth import authenticate
from shared.http.handler import api_endpoint
from shared.http.responses import json_response
from shared.models.credits import UsageView
from shared.openapi import Auth, operation

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.route(route="v1/usage", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@operation(
    "GET", "v1/usage", summary="Credit balance, reserved and spent",
    auth=Auth.READ,
    responses={200: UsageView},
)  # fmt: skip
@api_endpoint
async def get_usage(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    return json_response(await usage(ctx, principal.tenant_id))
