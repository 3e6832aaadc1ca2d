"""Finding and showing library images: a tenant's own (by page token, or by offset for documents that
page so), one by id, and the public gallery."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.app_context import AppContext
from shared.cosmos import Query
from shared.errors import ApiError, not_found
from shared.ids import image_id, split_image_id
from shared.jobs.repository import gallery_query, images_query
from shared.library.links import permanent_url
from shared.models.common import MAX_PAGE_SIZE
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument, JobStatus, StoredImage
from shared.models.library import GalleryQuery, ImageListQuery, ImageRecord
from shared.paging import decode_page_token, encode_page_token, offset_window, query_fingerprint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LibraryImage:
    job: JobDocument
    image: StoredImage

    @property
    def id(self) -> str:
        return image_id(self.job.id, self.image.index)


async def list_images(
    ctx: AppContext, tenant_id: str, query: ImageListQuery
) -> tuple[list[LibraryImage], str | None]:
    """One page of the tenant's images, newest first, and the token of the next page."""
    images = images_query(tenant_id, preset_id=query.preset_id, search=query.search)
    return await _page(ctx, images, query.limit, query.page_token)


async def images_at_offset(
    ctx: AppContext,
    tenant_id: str,
    *,
    offset: int,
    limit: int,
    preset_id: str | None = None,
    search: str | None = None,
) -> tuple[list[LibraryImage], int]:
    """`limit` of the tenant's images (newest first) after skipping `offset`, and how many match: the
    pages `list_images` serves, walked from the start; the total is one COUNT in the tenant's partition."""
    images = images_query(tenant_id, preset_id=preset_id, search=search)

    async def fetch(page_size: int, token: str | None) -> tuple[list[LibraryImage], str | None]:
        return await _rows(ctx, images, page_size, token)

    window = await offset_window(fetch, offset=offset, limit=limit, page_size=MAX_PAGE_SIZE)
    return window, await ctx.jobs.count(images)


async def list_gallery(ctx: AppContext, query: GalleryQuery) -> tuple[list[LibraryImage], str | None]:
    """One page of the public images of every tenant, newest first."""
    return await _page(ctx, gallery_query(), query.limit, query.page_token)


async def get_image(ctx: AppContext, tenant_id: str, value: str) -> LibraryImage:
    """The tenant's image by id; another tenant's, a deleted job's or an unknown one is a 404."""
    parts = split_image_id(value)
    job = await ctx.jobs.get(tenant_id, parts[0]) if parts else None
    if parts is None or job is None or job.deleted_at is not None or job.status != JobStatus.SUCCEEDED:
        raise not_found(f"Image {value!r}")
    image = next((image for image in job.outputs if image.index == parts[1]), None)
    if image is None:
        raise not_found(f"Image {value!r}")
    return LibraryImage(job, image)


async def linked_image(ctx: AppContext, tenant_id: str, value: str) -> LibraryImage:
    """The image a verified permanent link names: 404 when its job or the image is gone, 410 when the job
    was deleted (its link dies with it)."""
    parts = split_image_id(value)
    job = await ctx.jobs.get(tenant_id, parts[0]) if parts else None
    image = None
    if parts is not None and job is not None and job.status == JobStatus.SUCCEEDED:
        image = next((output for output in job.outputs if output.index == parts[1]), None)
    if job is None or image is None:
        raise not_found("Image")
    if job.deleted_at is not None:
        raise ApiError(410, ErrorCode.GONE, "The image was deleted.")
    return LibraryImage(job, image)


async def image_record(ctx: AppContext, item: LibraryImage, *, content_url: str | None) -> ImageRecord:
    job, image = item.job, item.image
    return ImageRecord(
        id=item.id,
        job_id=job.id,
        url=await ctx.images.read_url(image.container, image.blob_name),
        permanent_url=permanent_url(ctx.settings, job, image),
        content_url=content_url,
        mime_type=image.mime_type,
        width=image.width,
        height=image.height,
        bytes=image.bytes,
        prompt=job.spec.prompt,
        preset_id=job.preset_id,
        preset_name=job.preset_name,
        provider=job.spec.provider,
        model=job.spec.model,
        aspect_ratio=job.spec.aspect_ratio,
        is_public=job.is_public,
        created_at=job.created_at,
    )


async def _page(
    ctx: AppContext, query: Query, limit: int, page_token: str | None
) -> tuple[list[LibraryImage], str | None]:
    owner = query_fingerprint(query, limit)
    items, next_token = await _rows(ctx, query, limit, decode_page_token(page_token, owner))
    return items, encode_page_token(next_token, owner)


async def _rows(
    ctx: AppContext, query: Query, limit: int, continuation: str | None
) -> tuple[list[LibraryImage], str | None]:
    rows, next_token = await ctx.jobs.image_page(query, limit=limit, continuation=continuation)
    items = []
    for row in rows:
        image = next((image for image in row.job.outputs if image.index == row.image_index), None)
        if image is not None:
            items.append(LibraryImage(row.job, image))
    return items, next_token
