"""Finding and showing library images: a tenant's own, one by id, and the public gallery."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shared.app_context import AppContext
from shared.errors import ApiError, not_found
from shared.ids import image_id, split_image_id
from shared.jobs.listing import decode_page_token, encode_page_token, fingerprint
from shared.library.links import permanent_url
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument, JobStatus, StoredImage
from shared.models.library import GalleryQuery, ImageListQuery, ImageRecord, LibraryRow

logger = logging.getLogger(__name__)

_SELECT = 'SELECT c AS job, o["index"] AS imageIndex FROM c JOIN o IN c.outputs'
_VISIBLE = (
    "c.docType = 'job' AND c.status = @succeeded AND (NOT IS_DEFINED(c.deletedAt) OR IS_NULL(c.deletedAt))"
)
_ORDER = "ORDER BY c.createdAt DESC"


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
    where, parameters = _library_filter(tenant_id, query)
    sql = f"{_SELECT} WHERE {where} {_ORDER}"
    return await _page(ctx, sql, parameters, tenant_id, query.limit, query.page_token)


async def count_images(ctx: AppContext, tenant_id: str, query: ImageListQuery) -> int:
    """How many images `list_images` walks through for these filters (in the tenant's partition)."""
    where, parameters = _library_filter(tenant_id, query)
    sql = f"SELECT VALUE COUNT(1) FROM c JOIN o IN c.outputs WHERE {where}"
    return await ctx.jobs.count(sql, parameters, tenant_id=tenant_id)


def _library_filter(tenant_id: str, query: ImageListQuery) -> tuple[str, list[dict[str, Any]]]:
    conditions = ["c.tenantId = @tenant", _VISIBLE]
    parameters: list[dict[str, Any]] = [
        {"name": "@tenant", "value": tenant_id},
        {"name": "@succeeded", "value": JobStatus.SUCCEEDED.value},
    ]
    if query.preset_id is not None:
        conditions.append("c.presetId = @presetId")
        parameters.append({"name": "@presetId", "value": query.preset_id})
    if query.search is not None:
        # Case-insensitive substring; LOWER on both sides works on the service and the emulator alike.
        conditions.append(
            "(CONTAINS(LOWER(c.spec.prompt), @search) "
            "OR (IS_STRING(c.presetName) AND CONTAINS(LOWER(c.presetName), @search)))"
        )
        parameters.append({"name": "@search", "value": query.search.lower()})
    return " AND ".join(conditions), parameters


async def list_gallery(ctx: AppContext, query: GalleryQuery) -> tuple[list[LibraryImage], str | None]:
    """One page of the public images of every tenant, newest first."""
    sql = f"{_SELECT} WHERE c.isPublic = true AND {_VISIBLE} {_ORDER}"
    parameters: list[dict[str, Any]] = [{"name": "@succeeded", "value": JobStatus.SUCCEEDED.value}]
    return await _page(ctx, sql, parameters, None, query.limit, query.page_token)


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
    ctx: AppContext,
    sql: str,
    parameters: list[dict[str, Any]],
    tenant_id: str | None,
    limit: int,
    page_token: str | None,
) -> tuple[list[LibraryImage], str | None]:
    owner = fingerprint(tenant_id, sql, parameters, limit)
    rows, next_token = await ctx.jobs.rows_page(
        sql,
        parameters,
        tenant_id=tenant_id,
        limit=limit,
        continuation=decode_page_token(page_token, owner),
        model=LibraryRow,
    )
    items = []
    for row in rows:
        image = next((image for image in row.job.outputs if image.index == row.image_index), None)
        if image is not None:
            items.append(LibraryImage(row.job, image))
    return items, encode_page_token(next_token, owner)
