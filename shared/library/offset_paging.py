"""Page-number paging of the library (`page`, `limit`, `total`) on top of continuation tokens.

The Cosmos emulator has no usable OFFSET, so a window is reached by walking the native listing's
continuation-token pages from the start (shared/offset_paging.py); the total is one COUNT in the tenant's
partition.
"""

from __future__ import annotations

from shared.app_context import AppContext
from shared.library.images import LibraryImage, count_images, list_images
from shared.models.library import MAX_PAGE_SIZE, ImageListQuery
from shared.offset_paging import offset_window


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

    async def fetch(page_size: int, token: str | None) -> tuple[list[LibraryImage], str | None]:
        # Every page is asked with the same query: a token is valid only for the filters it came from.
        return await list_images(ctx, tenant_id, query.model_copy(update={"page_token": token}))

    window = await offset_window(fetch, offset=offset, limit=limit, page_size=MAX_PAGE_SIZE)
    return window, await count_images(ctx, tenant_id, query)
