"""`GET /api/v1/images/generations`: the tenant's jobs, newest first, filtered, paged by continuation
token."""

from __future__ import annotations

from pydantic import Field

from shared.app_context import AppContext
from shared.jobs.repository import JobFilter, jobs_query
from shared.models.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RequestModel, UtcDateTime
from shared.models.jobs import JobDocument, JobStatus, ResponseFormat
from shared.paging import decode_page_token, encode_page_token, query_fingerprint


class JobListQuery(RequestModel):
    """Query parameters of the job list."""

    status: JobStatus | None = None
    preset_id: str | None = None
    created_from: UtcDateTime | None = Field(default=None, description="Inclusive lower bound of createdAt.")
    created_to: UtcDateTime | None = Field(default=None, description="Exclusive upper bound of createdAt.")
    include_deleted: bool = False
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = None
    response_format: ResponseFormat = Field(default=ResponseFormat.URL, alias="response_format")


async def list_jobs(
    ctx: AppContext, tenant_id: str, query: JobListQuery
) -> tuple[list[JobDocument], str | None]:
    """One page of the tenant's jobs and the token of the next page."""
    selected = JobFilter(
        statuses=() if query.status is None else (query.status,),
        preset_id=query.preset_id,
        created_from=query.created_from,
        created_to=query.created_to,
        include_deleted=query.include_deleted,
    )
    jobs_of_tenant = jobs_query(tenant_id, selected)
    owner = query_fingerprint(jobs_of_tenant, query.limit)
    jobs, next_token = await ctx.jobs.page(
        jobs_of_tenant, limit=query.limit, continuation=decode_page_token(query.page_token, owner)
    )
    return jobs, encode_page_token(next_token, owner)
