"""Seed 001: `/api/v1/generations` (create, get, list, delete) over the native jobs core."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import WRITE_SCOPE, authenticate
from shared.http.endpoint import Auth, Deferred, endpoint
from shared.http.handler import parse_json_body
from shared.http.query import parse_query, query_flag
from shared.http.responses import json_response
from shared.http.urls import api_base_url

logger = logging.getLogger(__name__)

bp = func.Blueprint()

COLLECTION = "v1/generations"
ITEM = COLLECTION + "/{generation_id}"
TAGS = ("seed001-generations",)

# The family's modules load with its first request: most requests never use them.
_MODELS = "shared.compat.seed001_models"
ERROR_SHAPE = Deferred("shared.compat.seed001", "ERROR_SHAPE")
ENVELOPE = Deferred(_MODELS, "GenerationEnvelope")
DELETED = Deferred(_MODELS, "DeletedMessage")


@endpoint(
    bp, "POST", COLLECTION, summary="Seed 001: create a generation (pending; poll it with GET)",
    auth=Auth.WRITE, request=Deferred(_MODELS, "CreateGenerationRequest"), responses={201: ENVELOPE},
    errors=(400, 402, 415), tags=TAGS, error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed001_create_generation(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed001 as generations
    from shared.compat.seed001_models import CreateGenerationRequest, GenerationEnvelope

    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    request = parse_json_body(req, CreateGenerationRequest)
    generation = await generations.create_generation(
        ctx, principal, request, api_base_url=api_base_url(req, ctx.settings)
    )
    return json_response(GenerationEnvelope(data=generation), status=201)


@endpoint(
    bp, "GET", COLLECTION, summary="Seed 001: list generations, newest first, offset paged",
    auth=Auth.READ, query=Deferred("shared.compat.seed001", "GenerationListQuery"),
    responses={200: Deferred(_MODELS, "GenerationList")}, errors=(400,), tags=TAGS, error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed001_list_generations(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed001 as generations

    ctx = get_context()
    principal = await authenticate(req, ctx)
    query = parse_query(req, generations.GenerationListQuery)
    return json_response(await generations.list_generations(ctx, principal.tenant_id, query))


@endpoint(
    bp, "GET", ITEM, summary="Seed 001: a generation with its output image",
    auth=Auth.READ, responses={200: ENVELOPE}, errors=(404,), tags=TAGS, error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed001_get_generation(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed001 as generations
    from shared.compat.seed001_models import GenerationEnvelope

    ctx = get_context()
    principal = await authenticate(req, ctx)
    generation = await generations.get_generation(
        ctx,
        principal.tenant_id,
        req.route_params["generation_id"],
        include_deleted=query_flag(req, "includeDeleted"),
    )
    return json_response(GenerationEnvelope(data=generation))


@endpoint(
    bp, "DELETE", ITEM, summary="Seed 001: delete a generation and its image (hard delete)",
    auth=Auth.WRITE, responses={200: DELETED}, errors=(404,), tags=TAGS, error_shape=ERROR_SHAPE,
)  # fmt: skip
async def seed001_delete_generation(req: func.HttpRequest) -> func.HttpResponse:
    from shared.compat import seed001 as generations
    from shared.compat.seed001_models import DeletedMessage

    ctx = get_context()
    principal = await authenticate(req, ctx, scope=WRITE_SCOPE)
    await generations.delete_generation(ctx, principal.tenant_id, req.route_params["generation_id"])
    return json_response(DeletedMessage())
