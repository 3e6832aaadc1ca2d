"""A library image's bytes as an HTTP answer, for every route family that serves them.

The answer is the whole image in one buffered body: the Python v2 programming model's `HttpResponse`
carries bytes, not a stream (streaming needs the separate `azurefunctions-extensions-http-fastapi`
model); images are a few MB at most, within what a buffered answer handles well.
"""

from __future__ import annotations

import azure.functions as func

from shared.app_context import AppContext
from shared.errors import not_found
from shared.library.images import LibraryImage


async def image_download(ctx: AppContext, item: LibraryImage, if_none_match: str | None) -> func.HttpResponse:
    """The image as an attachment with its blob's ETag; 304 when `if_none_match` names that ETag, 404
    when the blob is gone."""
    image = item.image
    etag = await ctx.images.etag(image.container, image.blob_name)
    if _matches(if_none_match, etag):
        return func.HttpResponse(status_code=304, headers={"ETag": etag})
    content = await ctx.images.read(image.container, image.blob_name)
    if content is None:
        raise not_found(f"Image {item.id!r}")
    extension = image.blob_name.rpartition(".")[2] or "bin"
    headers = {
        "ETag": content.etag,
        "Content-Length": str(len(content.data)),
        "Content-Disposition": f'attachment; filename="{item.id}.{extension}"',
        "Cache-Control": "private, max-age=3600",
    }
    return func.HttpResponse(content.data, status_code=200, headers=headers, mimetype=content.content_type)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list against the current ETag."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
