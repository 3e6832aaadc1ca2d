"""Public API: `/api/v1/gallery`, the images callers published with `isPublic`, without auth."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.app_context import get_context
from shared.http.endpoint import Auth, endpoint
from shared.http.query import parse_query
from shared.http.responses import json_response
from shared.library.images import image_record, list_gallery
from shared.models.library import GalleryQuery, ImagePage

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@endpoint(
    bp, "GET", "v1/gallery", summary="Public images of every tenant, newest first",
    auth=Auth.NONE,
    query=GalleryQuery, responses={200: ImagePage}, errors=(400,),
)  # fmt: skip
async def list_gallery_images(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    query = parse_query(req, GalleryQuery)
    items, next_token = await list_gallery(ctx, query)
    # No content link: the bytes route belongs to the owner; the URL is what the public gets.
    records = [await image_record(ctx, item, content_url=None) for item in items]
    return json_response(ImagePage(items=records, next_page_token=next_token))
