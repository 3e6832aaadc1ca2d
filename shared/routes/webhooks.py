"""Native API: `/api/v1/webhooks/secret`, the key the tenant's webhook deliveries are signed with."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import authenticate
from shared.http.endpoint import Auth, endpoint
from shared.http.responses import json_response
from shared.models.webhooks import WebhookSecretView

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@endpoint(
    bp, "GET", "v1/webhooks/secret", summary="The tenant's webhook signing secret", auth=Auth.READ,
    responses={200: WebhookSecretView},
)  # fmt: skip
async def get_webhook_secret(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    secret = await ctx.webhook_secrets.get(principal.tenant_id)
    return json_response(WebhookSecretView(secret=secret), headers={"Cache-Control": "no-store"})
