"""Native API: `/api/v1/images/generations` (submit, status)."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import WRITE_SCOPE, authenticate
from shared.http.handler import api_endpoint, parse_json_body
from shared.http.responses import json_response
from shared.http.urls import api_base_url
from shared.jobs import service
from shared.models.jobs import GenerationRequest, JobDocument, JobView
from shared.openapi import Auth, operation

logger = logging.getLogger(__name__)

bp = func.Blueprint()

COLLECTION = "v1/images/generations"


@bp.route(route=COLLECTION, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@operation(
    "POST", COLLECTION, summary="Submit a generation job", auth=Auth.WRITE, request=GenerationRequest,
    responses={202: JobView, 200: JobView}, errors=(400, 415, 503),
)  # fmt: skip
@api_endpoint
async def submit_generation(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    request = parse_json_body(req, GenerationRequest)
    job = await service.submit_generation(ctx, principal.tenant_id, request)
    return await _job_response(req, job)


@bp.route(route=COLLECTION + "/{job_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@operation(
    "GET", COLLECTION + "/{job_id}", summary="A job: 202 while queued or running, 200 once ended",
    auth=Auth.READ, responses={200: JobView, 202: JobView}, errors=(404,),
)  # fmt: skip
@api_endpoint
async def get_generation(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    job = await service.get_job(ctx, principal.tenant_id, req.route_params["job_id"])
    return await _job_response(req, job)


async def _job_response(req: func.HttpRequest, job: JobDocument) -> func.HttpResponse:
    """202 with Location and Retry-After while the job is not finished, 200 once it is."""
    ctx = get_context()
    status_url = f"{api_base_url(req, ctx.settings)}/{COLLECTION}/{job.id}"
    view = await service.job_view(ctx, job, status_url=status_url)
    if job.status.is_terminal:
        return json_response(view, status=200)
    headers = {"Location": status_url, "Retry-After": str(ctx.settings.status_retry_after_seconds)}
    return json_response(view, status=202, headers=headers)
