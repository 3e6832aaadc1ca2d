"""Native API: `/api/v1/images/generations` (submit, status, list, cancel, delete)."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import WRITE_SCOPE, authenticate
from shared.http.endpoint import Auth, endpoint
from shared.http.handler import parse_json_body
from shared.http.multipart import is_multipart, parse_generation_form
from shared.http.query import parse_query, query_flag, response_format_param
from shared.http.responses import json_response
from shared.http.urls import api_base_url
from shared.jobs import service
from shared.jobs.cancel import cancel_job
from shared.jobs.deletion import delete_job
from shared.jobs.listing import JobListQuery, list_jobs
from shared.jobs.waiting import requested_wait, wait_for_terminal
from shared.models.jobs import (
    GenerationRequest,
    JobDocument,
    JobPage,
    JobReadQuery,
    JobView,
    ResponseFormat,
    SubmitQuery,
)
from shared.scheduling.positions import status_retry_after

logger = logging.getLogger(__name__)

bp = func.Blueprint()

COLLECTION = "v1/images/generations"


@endpoint(
    bp, "POST", COLLECTION, summary="Submit a generation job", auth=Auth.WRITE, request=GenerationRequest,
    request_content_types=("application/json", "multipart/form-data"), query=SubmitQuery,
    responses={202: JobView, 200: JobView}, errors=(400, 402, 404, 409, 415, 503),
)  # fmt: skip
async def submit_generation(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    response_format = response_format_param(req)
    wait = requested_wait(req.headers.get("prefer"), ctx.settings.sync_wait_max_seconds)
    if is_multipart(req):
        request, uploads = parse_generation_form(req)
    else:
        request, uploads = parse_json_body(req, GenerationRequest), []
    job = await service.submit_generation(
        ctx,
        principal.tenant_id,
        request,
        idempotency_key=req.headers.get("idempotency-key"),
        uploads=uploads,
        api_base_url=api_base_url(req, ctx.settings),
    )
    if wait is None:
        return await _job_response(req, job, response_format)
    job = await wait_for_terminal(ctx, job, wait)
    return await _job_response(
        req, job, response_format, extra_headers={"Preference-Applied": f"wait={wait}"}
    )


@endpoint(
    bp, "GET", COLLECTION, summary="List jobs, newest first, continuation-token paged",
    auth=Auth.READ,
    query=JobListQuery, responses={200: JobPage}, errors=(400,),
)  # fmt: skip
async def list_generations(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    query = parse_query(req, JobListQuery)
    jobs, next_token = await list_jobs(ctx, principal.tenant_id, query)
    base = api_base_url(req, ctx.settings)
    views = [
        await service.job_view(
            ctx, job, status_url=f"{base}/{COLLECTION}/{job.id}", response_format=query.response_format
        )
        for job in jobs
    ]
    return json_response(JobPage(items=views, next_page_token=next_token))


@endpoint(
    bp, "GET", COLLECTION + "/{job_id}", summary="A job: 202 while queued or running, 200 once ended",
    auth=Auth.READ, query=JobReadQuery, responses={200: JobView, 202: JobView}, errors=(400, 404),
)  # fmt: skip
async def get_generation(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    response_format = response_format_param(req)
    job = await service.get_job(
        ctx,
        principal.tenant_id,
        req.route_params["job_id"],
        include_deleted=query_flag(req, "includeDeleted"),
    )
    return await _job_response(req, job, response_format)


@endpoint(
    bp, "POST", COLLECTION + "/{job_id}/cancel", summary="Cancel a queued or running job",
    auth=Auth.WRITE,
    responses={200: JobView}, errors=(404, 409),
)  # fmt: skip
async def cancel_generation(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    job = await cancel_job(ctx, principal.tenant_id, req.route_params["job_id"])
    return await _job_response(req, job, ResponseFormat.URL)


@endpoint(
    bp, "DELETE", COLLECTION + "/{job_id}",
    summary="Delete a job (soft; ?hard=true removes it and its images)", auth=Auth.WRITE,
    responses={204: None}, errors=(404,),
)  # fmt: skip
async def delete_generation(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    await delete_job(ctx, principal.tenant_id, req.route_params["job_id"], hard=query_flag(req, "hard"))
    return func.HttpResponse(status_code=204)


async def _job_response(
    req: func.HttpRequest,
    job: JobDocument,
    response_format: ResponseFormat,
    *,
    extra_headers: dict[str, str] | None = None,
) -> func.HttpResponse:
    """202 with Location and Retry-After (until the expected start of a job waiting for its model's quota)
    while the job is not finished, 200 once it is."""
    ctx = get_context()
    status_url = f"{api_base_url(req, ctx.settings)}/{COLLECTION}/{job.id}"
    view = await service.job_view(ctx, job, status_url=status_url, response_format=response_format)
    headers = dict(extra_headers or {})
    if job.status.is_terminal:
        return json_response(view, status=200, headers=headers)
    retry_after = status_retry_after(ctx.settings, view.estimated_start_at)
    headers.update({"Location": status_url, "Retry-After": str(retry_after)})
    return json_response(view, status=202, headers=headers)
