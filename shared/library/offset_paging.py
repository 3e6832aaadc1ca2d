"""Page-number paging of the library (`page`, `limit`, `total`) on top of continuation tokens.

The Cosmos emulator has no usable OFFSET, so page N is reached by walking the continuation-token pages
of the native listing from the start; the total is one COUNT in the tenant's partition.
"""

from __future__ import annotations

from shared.app_context import AppContext
from shared.library.images import LibraryImage, count_images, list_images
from shared.models.library import MAX_PAGE_SIZE, ImageListQuery


async def images_at_offset(
    ctx: AppContext,
    tenant_id: str,
    *,
    offset: int,
    limit: int,
    preset_id: str | None = None,
    search: str | None = None,
) -> tuple[list[LibraryImage], int]:
    """`limit` of the tenant's images (newest first) after skipping `offset`, and how many match."""
    query = ImageListQuery(preset_id=preset_id, search=search, limit=MAX_PAGE_SIZE)
    wanted = offset + limit
    walked: list[LibraryImage] = []
    token: str | None = None
    while len(walked) < wanted:
        # A page may hold fewer rows than asked for; only the token says whether more follow.
        items, token = await list_images(ctx, tenant_id, query.model_copy(update={"page_token": token}))
        walked.extend(items)
        if token is None:
            break
    total = await count_images(ctx, tenant_id, query)
    return walked[offset:wanted], total
