"""The image library: every output image of a tenant's succeeded jobs, addressed as `{jobId}-{n}`.

Images are not stored as documents of their own: they are the outputs of job documents, read with a
`JOIN` over `outputs`, so an image exists exactly as long as its job does.
"""

from __future__ import annotations

from pydantic import Field

from shared.models.common import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ApiModel,
    RequestModel,
    StoredModel,
    UtcDateTime,
)
from shared.models.jobs import JobDocument

MAX_SEARCH_LENGTH = 200


class LibraryRow(StoredModel):
    """One row of the library query: a job and the index of one of its outputs."""

    job: JobDocument
    image_index: int


class ImageListQuery(RequestModel):
    """Query parameters of `GET /api/v1/images`."""

    preset_id: str | None = None
    search: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SEARCH_LENGTH,
        description="Substring of the prompt or preset name.",
    )
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = None


class GalleryQuery(RequestModel):
    """Query parameters of `GET /api/v1/gallery`."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = None


class ImageRecord(ApiModel):
    """An image as the library shows it."""

    id: str = Field(description="`{jobId}-{index}`.")
    job_id: str
    url: str = Field(
        description="A read URL: SAS, valid IMAGE_URL_TTL_MINUTES (or plain where images are public)."
    )
    permanent_url: str | None = Field(
        default=None,
        description="The image's permanent link (no expiry; dies with the image); null without signing keys.",
    )
    content_url: str | None = Field(default=None, description="GET here for the bytes (authenticated).")
    mime_type: str
    width: int
    height: int
    bytes: int
    prompt: str
    preset_id: str | None = None
    preset_name: str | None = None
    provider: str
    model: str
    aspect_ratio: str
    is_public: bool
    created_at: UtcDateTime


class ImagePage(ApiModel):
    items: list[ImageRecord]
    next_page_token: str | None = Field(
        default=None, description="Pass as `pageToken` for the next page; absent on the last page."
    )
