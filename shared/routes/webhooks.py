"""Native API: `/api/v1/webhooks/secret`, the key the tenant's webhook deliveries are signed with."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import authenticate
from shared.http.handler import api_endpoint
from shared.http.responses import json_response
from shared.models.webhooks import WebhookSecretView
from shared.openapi import Auth, operation

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.route(route="v1/webhooks/secret", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@operation(
    "GET", "v1/webhooks/secret", summary="The tenant's webhook signing secret", auth=Auth.READ,
    responses={200: WebhookSecretView},
)  # fmt: skip
@api_endpoint
async def get_webhook_secret(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    secret = await ctx.webhook_secrets.get(principal.tenant_id)
    return json_response(WebhookSecretView(secret=secret), headers={"Cache-Control": "no-store"})
