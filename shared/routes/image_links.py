"""Public API: `/api/v1/image-links/{token}`, the permanent link of one image (`shared.library.links`).

No credentials: the signed token is the capability, as a SAS URL is. The answer is a redirect to a fresh
read URL: a SAS URL living `REDIRECT_SAS_LIFETIME` (or IMAGE_URL_TTL_MINUTES when shorter), cached by the
client for half that; or the plain URL where images are public by setting, cached for an hour.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import azure.functions as func

from shared.app_context import get_context
from shared.errors import not_found
from shared.http.endpoint import Auth, endpoint
from shared.library import links
from shared.library.images import linked_image

logger = logging.getLogger(__name__)

bp = func.Blueprint()

ROUTE = links.ROUTE + "/{token}"
REDIRECT_SAS_LIFETIME = timedelta(minutes=10)
_PUBLIC_CACHE_SECONDS = 3600


@endpoint(
    bp, "GET", ROUTE, summary="An image's permanent link: 302 to a fresh short-lived URL of the image",
    auth=Auth.NONE, responses={302: None}, errors=(404, 410),
)  # fmt: skip
async def follow_image_link(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    target = links.verify_token(ctx.settings.image_link_keys, req.route_params["token"])
    if target is None:
        raise not_found("Image")
    item = await linked_image(ctx, target.tenant_id, target.image_id)
    image = item.image
    if ctx.images.is_public(image.container):
        location = await ctx.images.read_url(image.container, image.blob_name)
        cache = f"public, max-age={_PUBLIC_CACHE_SECONDS}"
    else:
        lifetime = min(REDIRECT_SAS_LIFETIME, timedelta(minutes=ctx.settings.image_url_ttl_minutes))
        location = await ctx.images.read_url(image.container, image.blob_name, ttl=lifetime)
        # The client may reuse the redirect for half the SAS URL's life; shared caches must not (it is a
        # credential).
        cache = f"private, max-age={int(lifetime.total_seconds()) // 2}"
    headers = {"Location": location, "Cache-Control": cache, "Referrer-Policy": "no-referrer"}
    return func.HttpResponse(status_code=302, headers=headers)
