"""Native API: `/api/v1/presets` (create, list, read, replace, delete)."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import WRITE_SCOPE, authenticate
from shared.http.endpoint import Auth, endpoint
from shared.http.handler import parse_json_body
from shared.http.query import parse_query
from shared.http.responses import json_response
from shared.http.urls import api_base_url
from shared.models.presets import PresetInput, PresetListQuery, PresetPage, PresetView
from shared.presets import service

logger = logging.getLogger(__name__)

bp = func.Blueprint()

COLLECTION = "v1/presets"


@endpoint(
    bp, "POST", COLLECTION, summary="Create a preset",
    auth=Auth.WRITE,
    request=PresetInput, responses={201: PresetView}, errors=(400, 415, 503),
)  # fmt: skip
async def create_preset(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    body = parse_json_body(req, PresetInput)
    preset = await service.create_preset(ctx, principal.tenant_id, body)
    location = f"{api_base_url(req, ctx.settings)}/{COLLECTION}/{preset.id}"
    return json_response(PresetView.of(preset), status=201, headers={"Location": location})


@endpoint(
    bp, "GET", COLLECTION, summary="The tenant's presets", auth=Auth.READ,
    query=PresetListQuery, responses={200: PresetPage}, errors=(400,),
)  # fmt: skip
async def list_presets(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    presets, token = await service.list_presets(ctx, principal.tenant_id, parse_query(req, PresetListQuery))
    return json_response(PresetPage(items=[PresetView.of(p) for p in presets], next_page_token=token))


@endpoint(
    bp, "GET", COLLECTION + "/{preset_id}", summary="A preset",
    auth=Auth.READ,
    responses={200: PresetView}, errors=(404,),
)  # fmt: skip
async def get_preset(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    preset = await service.get_preset(ctx, principal.tenant_id, req.route_params["preset_id"])
    return json_response(PresetView.of(preset))


@endpoint(
    bp, "PUT", COLLECTION + "/{preset_id}", summary="Replace a preset",
    auth=Auth.WRITE,
    request=PresetInput, responses={200: PresetView}, errors=(400, 404, 415, 503),
)  # fmt: skip
async def replace_preset(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    body = parse_json_body(req, PresetInput)
    preset = await service.replace_preset(ctx, principal.tenant_id, req.route_params["preset_id"], body)
    return json_response(PresetView.of(preset))


@endpoint(
    bp, "DELETE", COLLECTION + "/{preset_id}", summary="Delete a preset",
    auth=Auth.WRITE,
    responses={204: None}, errors=(404,),
)  # fmt: skip
async def delete_preset(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    await service.delete_preset(ctx, principal.tenant_id, req.route_params["preset_id"])
    return func.HttpResponse(status_code=204)
