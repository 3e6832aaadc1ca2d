"""`GET /api/v1/images/generations`: the tenant's jobs, newest first, filtered, paged by continuation
token."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from pydantic import Field

from shared.app_context import AppContext
from shared.errors import validation_error
from shared.models.common import RequestModel, UtcDateTime, iso_utc
from shared.models.jobs import JobDocument, JobStatus, ResponseFormat

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


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


def encode_page_token(cosmos_token: str | None, fingerprint: str) -> str | None:
    """An opaque token: the SDK's continuation plus a fingerprint of the filters it belongs to."""
    if cosmos_token is None:
        return None
    raw = json.dumps({"c": cosmos_token, "f": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str | None, fingerprint: str) -> str | None:
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
        cosmos_token, owner = value["c"], value["f"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _bad_token() from exc
    if owner != fingerprint or not isinstance(cosmos_token, str):
        raise _bad_token()
    return cosmos_token


def _bad_token() -> Exception:
    return validation_error(
        "Invalid request: pageToken does not belong to this query.",
        details=[{"field": "pageToken", "message": "not a token of this query"}],
    )


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


async def list_jobs(
    ctx: AppContext, tenant_id: str, query: JobListQuery
) -> tuple[list[JobDocument], str | None]:
    """One page of the tenant's jobs and the token of the next page."""
    conditions = ["c.docType = 'job'", "c.tenantId = @tenant"]
    parameters: list[dict[str, Any]] = [{"name": "@tenant", "value": tenant_id}]
    if query.status is not None:
        conditions.append("c.status = @status")
        parameters.append({"name": "@status", "value": query.status.value})
    if query.preset_id is not None:
        conditions.append("c.presetId = @presetId")
        parameters.append({"name": "@presetId", "value": query.preset_id})
    # Stored timestamps have one fixed width, so string comparison orders them as times.
    if query.created_from is not None:
        conditions.append("c.createdAt >= @createdFrom")
        parameters.append({"name": "@createdFrom", "value": iso_utc(query.created_from)})
    if query.created_to is not None:
        conditions.append("c.createdAt < @createdTo")
        parameters.append({"name": "@createdTo", "value": iso_utc(query.created_to)})
    if not query.include_deleted:
        conditions.append("(NOT IS_DEFINED(c.deletedAt) OR IS_NULL(c.deletedAt))")
    sql = f"SELECT * FROM c WHERE {' AND '.join(conditions)} ORDER BY c.createdAt DESC"
    owner = fingerprint(tenant_id, sql, parameters, query.limit)
    jobs, next_token = await ctx.jobs.page(
        sql,
        parameters,
        tenant_id=tenant_id,
        limit=query.limit,
        continuation=decode_page_token(query.page_token, owner),
    )
    return jobs, encode_page_token(next_token, owner)
