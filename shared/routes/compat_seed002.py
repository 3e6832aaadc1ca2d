"""Seed 002 as documented: `/api/v0/images/generations`, `/api/v0/images/library`, `/api/v0/usage`.

A thin adapter: requests become native jobs (`shared.jobs.service`), answers are shaped by
`shared.compat.seed002`, and every error comes back flat, `{"error": "...", "code", "details"}`.
"""

from __future__ import annotations

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import WRITE_SCOPE, authenticate
from shared.http.endpoint import Auth, Deferred, endpoint
from shared.http.handler import parse_json_body
from shared.http.multipart import is_multipart, parse_form
from shared.http.query import parse_query, query_flag, response_format_param
from shared.http.responses import json_response
from shared.http.urls import api_base_url
from shared.jobs import service
from shared.library.download import image_download
from shared.library.images import get_image, images_at_offset
from shared.models.jobs import JobStatus, ResponseFormat

bp = func.Blueprint()

GENERATIONS = "v0/images/generations"
LIBRARY = "v0/images/library"

# Multipart form fields that carry JSON (the seed documents `variables`; the reference lists ride along).
_FORM_JSON_FIELDS = ("variables", "refImageBase64", "refImageUrls")

# The family's modules load with its first request: most requests never use them.
_MODELS = "shared.compat.seed002_models"
ERROR_SHAPE = Deferred("shared.compat.seed002", "ERROR_SHAPE")
JOB_ENVELOPE = Deferred(_MODELS, "V0JobEnvelope")


@endpoint(
    bp, "POST", GENERATIONS, summary="Generate images: waits for them unless ?async=true", auth=Auth.WRITE,
    request=Deferred(_MODELS, "V0GenerationRequest"), query=Deferred(_MODELS, "V0SubmitQuery"),
    request_content_types=("application/json", "multipart/form-data"),
    responses={200: JOB_ENVELOPE, 504: Deferred(_MODELS, "V0Timeout")},
    errors=(400, 402, 404, 415, 422, 502, 503), error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed002_submit_generation(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import kit, seed002
    from shared.compat.seed002_models import V0GenerationRequest, V0JobEnvelope, V0Timeout

    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    response_format = _response_format(req)
    if is_multipart(req):
        body, uploads = parse_form(req, V0GenerationRequest, _FORM_JSON_FIELDS)
    else:
        body, uploads = parse_json_body(req, V0GenerationRequest), []
    request = seed002.to_native(body, ctx.providers.catalog)
    job = await kit.submit(
        ctx,
        seed002.ROUTE_FAMILY,
        principal,
        request,
        translate=lambda error: seed002.in_seed_terms(error, body),
        uploads=uploads,
        api_base_url=api_base_url(req, ctx.settings),
        policy=seed002.submit_policy(ctx.settings),
    )
    if query_flag(req, "async"):
        return json_response(V0JobEnvelope(data=await seed002.job_result(ctx, job, response_format)))
    job = await kit.wait(ctx, job, seed002.ROUTE_FAMILY)
    if not job.status.is_terminal:
        timeout = V0Timeout(
            error=f"Generation timed out after {ctx.settings.compat_wait(seed002.ROUTE_FAMILY):g}s",
            job_id=job.id,
            hint=f"GET /v0/images/generations/{job.id} to check status",
        )
        return json_response(timeout, status=504)
    if job.status != JobStatus.SUCCEEDED:
        raise seed002.FAILURES.error(job)
    return json_response(V0JobEnvelope(data=await seed002.job_result(ctx, job, response_format)))


@endpoint(
    bp, "GET", GENERATIONS + "/{job_id}", summary="Poll a job: queued, active, completed or failed",
    auth=Auth.READ, responses={200: JOB_ENVELOPE}, errors=(400, 404), error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed002_get_generation(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed002
    from shared.compat.seed002_models import V0JobEnvelope

    ctx = get_context()
    principal = await authenticate(req, ctx)
    response_format = _response_format(req)
    job = await service.get_job(ctx, principal.tenant_id, req.route_params["job_id"])
    return json_response(V0JobEnvelope(data=await seed002.job_result(ctx, job, response_format)))


@endpoint(
    bp, "GET", LIBRARY, summary="The team's images, newest first, page-numbered", auth=Auth.READ,
    query=Deferred(_MODELS, "V0LibraryQuery"), responses={200: Deferred(_MODELS, "V0LibraryPageEnvelope")},
    errors=(400,), error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed002_list_library_images(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed002
    from shared.compat.seed002_models import V0LibraryPage, V0LibraryPageEnvelope, V0LibraryQuery

    ctx = get_context()
    principal = await authenticate(req, ctx)
    query = parse_query(req, V0LibraryQuery)
    items, total = await images_at_offset(
        ctx,
        principal.tenant_id,
        offset=(query.page - 1) * query.limit,
        limit=query.limit,
        preset_id=query.preset_id,
        search=query.search,
    )
    images = [await seed002.library_image(ctx, item) for item in items]
    page = V0LibraryPage(images=images, total=total, page=query.page, limit=query.limit)
    return json_response(V0LibraryPageEnvelope(data=page))


@endpoint(
    bp, "GET", LIBRARY + "/{image_id}", summary="An image's metadata and URL", auth=Auth.READ,
    responses={200: Deferred(_MODELS, "V0LibraryImageEnvelope")}, errors=(404,), error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed002_get_library_image(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed002
    from shared.compat.seed002_models import V0LibraryImageEnvelope

    ctx = get_context()
    principal = await authenticate(req, ctx)
    item = await get_image(ctx, principal.tenant_id, req.route_params["image_id"])
    return json_response(V0LibraryImageEnvelope(data=await seed002.library_image_detail(ctx, item)))


@endpoint(
    bp, "GET", LIBRARY + "/{image_id}/download", summary="An image's bytes, as an attachment", auth=Auth.READ,
    responses={200: "image/png,image/jpeg,image/webp", 304: None}, errors=(404,), error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed002_download_library_image(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    item = await get_image(ctx, principal.tenant_id, req.route_params["image_id"])
    return await image_download(ctx, item, req.headers.get("if-none-match"))


@endpoint(
    bp, "GET", "v0/usage", summary="Remaining credits", auth=Auth.READ,
    responses={200: Deferred(_MODELS, "V0CreditsEnvelope")}, error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed002_get_usage(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed002
    from shared.compat.seed002_models import V0CreditsEnvelope

    ctx = get_context()
    principal = await authenticate(req, ctx)
    return json_response(V0CreditsEnvelope(data=await seed002.credits(ctx, principal.tenant_id)))


def _response_format(req: func.HttpRequest) -> ResponseFormat:
    """`response_format` (url, b64_json, both); `include_base64=true|1` is `both`."""
    if query_flag(req, "include_base64"):
        return ResponseFormat.BOTH
    return response_format_param(req)
