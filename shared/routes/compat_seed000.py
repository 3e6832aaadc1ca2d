"""Seed 000: `POST /api/image` (images + prompt, answered synchronously) and `GET /api/image/{id}` (the
seed's generation metadata). Errors in the seed's flat shape `{"error": "...", "code": "..."}`."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import WRITE_SCOPE, authenticate
from shared.http.endpoint import Auth, Deferred, endpoint
from shared.http.handler import parse_json_body
from shared.http.responses import json_response
from shared.http.urls import api_base_url
from shared.jobs import service
from shared.models.jobs import JobView
from shared.routes.generations import COLLECTION as NATIVE_JOBS

logger = logging.getLogger(__name__)

bp = func.Blueprint()

ROUTE = "image"
TAGS = ("seed 000",)

# The family's modules load with its first request: most requests never use them.
_MODELS = "shared.compat.seed000_models"
ERROR_SHAPE = Deferred("shared.compat.seed000", "ERROR_SHAPE")


@endpoint(
    bp, "POST", ROUTE, summary="Seed 000: edit 1-5 images with a prompt; waits for the image",
    auth=Auth.WRITE, request=Deferred(_MODELS, "ImageEditRequest"),
    responses={200: Deferred(_MODELS, "ImageEditResponse"), 202: JobView},
    errors=(400, 402, 409, 415, 422, 502, 503, 504), tags=TAGS, error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed000_create_image(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat.seed000 import edit_image, edit_response
    from shared.compat.seed000_models import ImageEditRequest

    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    body = parse_json_body(req, ImageEditRequest)
    base = api_base_url(req, ctx.settings)
    job = await edit_image(ctx, principal, body, api_base_url=base)
    if job.status.is_terminal:
        return json_response(await edit_response(ctx, job))
    # Past the wait: as the native sync mode answers, 202 with the native job and its status URL.
    status_url = f"{base}/{NATIVE_JOBS}/{job.id}"
    view = await service.job_view(ctx, job, status_url=status_url)
    headers = {"Location": status_url, "Retry-After": str(ctx.settings.status_retry_after_seconds)}
    return json_response(view, status=202, headers=headers)


@endpoint(
    bp, "GET", ROUTE + "/{generation_id}", summary="Seed 000: a generation's metadata document",
    auth=Auth.READ, responses={200: Deferred(_MODELS, "GenerationMetadata")}, errors=(404,), tags=TAGS,
    error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed000_get_image_metadata(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat.seed000 import generation_metadata

    ctx = get_context()
    principal = await authenticate(req, ctx)
    metadata = await generation_metadata(ctx, principal.tenant_id, req.route_params["generation_id"])
    return json_response(metadata)
