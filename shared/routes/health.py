"""`GET /api/health` (anonymous): reachability of Storage, Cosmos DB and the configured providers, and the
provider settings that keep part of the service from working."""

from __future__ import annotations

import azure.functions as func

from shared.app_context import get_context
from shared.http.endpoint import Auth, endpoint
from shared.http.responses import json_response
from shared.models.health import HealthReport

bp = func.Blueprint()


@endpoint(
    bp, "GET", "health", summary="Dependencies and provider settings (503 when degraded)", auth=Auth.NONE,
    responses={200: HealthReport, 503: HealthReport},
)  # fmt: skip
async def health(req: func.HttpRequest) -> func.HttpResponse:
    report = await get_context().health.check()
    return json_response(
        report, status=200 if report.status == "ok" else 503, headers={"Cache-Control": "no-store"}
    )
