"""Native API: the tenant's image library, `/api/v1/images` (list, metadata, content)."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import authenticate
from shared.http.endpoint import Auth, endpoint
from shared.http.query import parse_query
from shared.http.responses import json_response
from shared.http.urls import api_base_url
from shared.library.download import image_download
from shared.library.images import get_image, image_record, list_images
from shared.models.library import ImageListQuery, ImagePage, ImageRecord

logger = logging.getLogger(__name__)

bp = func.Blueprint()

COLLECTION = "v1/images"


@endpoint(
    bp, "GET", COLLECTION, summary="The tenant's images, newest first", auth=Auth.READ,
    query=ImageListQuery, responses={200: ImagePage}, errors=(400,),
)  # fmt: skip
async def list_library_images(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    query = parse_query(req, ImageListQuery)
    items, next_token = await list_images(ctx, principal.tenant_id, query)
    base = api_base_url(req, ctx.settings)
    records = [
        await image_record(ctx, item, content_url=f"{base}/{COLLECTION}/{item.id}/content") for item in items
    ]
    return json_response(ImagePage(items=records, next_page_token=next_token))


@endpoint(
    bp, "GET", COLLECTION + "/{image_id}", summary="An image's metadata and URL", auth=Auth.READ,
    responses={200: ImageRecord}, errors=(404,),
)  # fmt: skip
async def get_library_image(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    item = await get_image(ctx, principal.tenant_id, req.route_params["image_id"])
    content_url = f"{api_base_url(req, ctx.settings)}/{COLLECTION}/{item.id}/content"
    return json_response(await image_record(ctx, item, content_url=content_url))


@endpoint(
    bp, "GET", COLLECTION + "/{image_id}/content", summary="An image's bytes", auth=Auth.READ,
    responses={200: "image/png,image/jpeg,image/webp", 304: None}, errors=(404,),
)  # fmt: skip
async def get_library_image_content(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    principal = await authenticate(req, ctx)
    item = await get_image(ctx, principal.tenant_id, req.route_params["image_id"])
    return await image_download(ctx, item, req.headers.get("if-none-match"))
