"""Admin API: `/api/v1/admin/api-keys` (create, list, revoke API keys). Requires ADMIN_API_KEY."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.errors import QUERY_PARAMETER, ApiError, invalid_field, not_found
from shared.http.auth import require_admin
from shared.http.endpoint import Auth, endpoint
from shared.http.handler import parse_json_body
from shared.http.query import query_param
from shared.http.responses import json_response
from shared.ids import is_api_key_id, is_tenant_id
from shared.models.auth import ApiKeyCreated, ApiKeyCreateRequest, ApiKeyList, ApiKeyView, key_view
from shared.models.errors import ErrorCode

logger = logging.getLogger(__name__)

bp = func.Blueprint()

COLLECTION = "v1/admin/api-keys"


@endpoint(
    bp,
    "POST",
    COLLECTION,
    summary="Create an API key (the key is shown only in this answer)",
    auth=Auth.ADMIN,
    request=ApiKeyCreateRequest,
    responses={201: ApiKeyCreated},
    errors=(400, 415, 503),
)
async def create_api_key(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    require_admin(req, ctx)
    request = parse_json_body(req, ApiKeyCreateRequest)
    secret = ctx.settings.api_key_hash_secret
    if secret is None:
        raise ApiError(
            503, ErrorCode.SERVICE_UNAVAILABLE, "API keys are disabled: API_KEY_HASH_SECRET is not set."
        )
    document, key = await ctx.api_keys.create(
        secret=secret.get_secret_value(),
        tenant_id=request.tenant_id,
        name=request.name,
        scopes=request.scopes,
        rate_limit=request.rate_limit or ctx.settings.rate_limit_per_window,
    )
    created = ApiKeyCreated(**key_view(document).model_dump(), key=key)
    return json_response(created, status=201, headers={"Cache-Control": "no-store"})


@endpoint(
    bp, "GET", COLLECTION, summary="List API keys (`?tenantId=` for one tenant)", auth=Auth.ADMIN,
    responses={200: ApiKeyList}, errors=(400,),
)  # fmt: skip
async def list_api_keys(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    require_admin(req, ctx)
    tenant_id = query_param(req, "tenantId") or None
    if tenant_id is not None and not is_tenant_id(tenant_id):
        raise invalid_field("tenantId", "not a tenant id", prefix=QUERY_PARAMETER)
    documents = await ctx.api_keys.list(tenant_id)
    return json_response(ApiKeyList(data=[key_view(document) for document in documents]))


@endpoint(
    bp, "DELETE", COLLECTION + "/{key_id}", summary="Revoke an API key", auth=Auth.ADMIN,
    responses={200: ApiKeyView}, errors=(404,),
)  # fmt: skip
async def revoke_api_key(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    require_admin(req, ctx)
    key_id = req.route_params["key_id"]
    document = await ctx.api_keys.revoke(key_id) if is_api_key_id(key_id) else None
    if document is None:
        raise not_found("API key")
    return json_response(key_view(document))
