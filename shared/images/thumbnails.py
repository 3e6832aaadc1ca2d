"""Thumbnails of generated images, made when Event Grid reports a new blob in the images container.

The blob path says which job and output an image belongs to
(`images/{tenant}/{yyyy-mm-dd}/{jobId}-{n}.{ext}`); the thumbnail goes to the thumbnails container under
the same path with a `.webp` extension, and the image's record on the job (`outputs[n]`) gets the
thumbnail's blob name, the blob's eTag and its size as read back from storage. Events are delivered at
least once and in any order, so processing is idempotent: a duplicate event, or one for a blob the
service does not know, changes nothing and fails nothing.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from shared.app_context import AppContext
from shared.images.store import ImageStore, normalize_etag
from shared.models.events import BLOB_CREATED, BlobCreatedData
from shared.models.jobs import JobDocument, StoredImage
from shared.telemetry.jobs import THUMBNAIL, job_span, thumbnail_outcome

logger = logging.getLogger(__name__)

THUMBNAIL_MIME_TYPE = "image/webp"
_SUBJECT = re.compile(r"/blobServices/default/containers/(?P<container>[^/]+)/blobs/(?P<blob>.+)")
_IMAGE_BLOB = re.compile(
    r"images/(?P<tenant>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<job>[^/]+)-(?P<index>\d+)\.(?P<ext>[A-Za-z0-9]+)"
)


@dataclass(frozen=True)
class ImageBlobRef:
    """Where a generated image's blob sits, and the job output it belongs to."""

    container: str
    blob_name: str
    tenant_id: str
    job_id: str
    index: int

    @property
    def thumbnail_blob_name(self) -> str:
        return self.blob_name.rsplit(".", 1)[0] + ".webp"


class ThumbnailOutcome(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class ImageNotRecordedYet(RuntimeError):
    """The job exists and is still running: its output is written after the upload, so the event came
    early. Failing makes Event Grid deliver it again later (its retry policy)."""


def parse_blob_subject(subject: str) -> tuple[str, str] | None:
    """`/blobServices/default/containers/{c}/blobs/{path}` → (container, blob name)."""
    match = _SUBJECT.fullmatch(subject)
    return (match["container"], match["blob"]) if match else None


def parse_image_blob(container: str, blob_name: str) -> ImageBlobRef | None:
    """The job output behind `images/{tenant}/{yyyy-mm-dd}/{jobId}-{n}.{ext}`; None for any other path."""
    match = _IMAGE_BLOB.fullmatch(blob_name)
    if match is None:
        return None
    return ImageBlobRef(
        container=container,
        blob_name=blob_name,
        tenant_id=match["tenant"],
        job_id=match["job"],
        index=int(match["index"]),
    )


def render_thumbnail(data: bytes, max_pixels: int) -> bytes:
    """A WebP no larger than `max_pixels` on its longest side, aspect ratio kept."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((max_pixels, max_pixels))
        converted = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA")
        out = io.BytesIO()
        converted.save(out, format="WEBP", quality=80)
    return out.getvalue()


async def thumbnail_url(images: ImageStore, image: StoredImage) -> str | None:
    """A read URL for the image's thumbnail, built at read time like the image's own URL."""
    if not image.thumbnail_container or not image.thumbnail_blob_name:
        return None
    return await images.read_url(image.thumbnail_container, image.thumbnail_blob_name)


def _output_for(job: JobDocument, ref: ImageBlobRef) -> StoredImage | None:
    return next(
        (
            o
            for o in job.outputs
            if o.index == ref.index and o.blob_name == ref.blob_name and o.container == ref.container
        ),
        None,
    )


async def process_blob_created(
    ctx: AppContext, *, event_type: str, subject: str, data: BlobCreatedData
) -> ThumbnailOutcome:
    """Make the thumbnail of a newly created image and record it on the image's job output."""
    location = parse_blob_subject(subject)
    if event_type != BLOB_CREATED or location is None:
        logger.info("Event %s for %s is not a blob creation; ignored", event_type, subject)
        return ThumbnailOutcome.IGNORED
    container, blob_name = location
    ref = parse_image_blob(container, blob_name) if container == ctx.settings.images_container else None
    if ref is None:
        logger.info("Blob %s/%s is not a generated image; ignored", container, blob_name)
        return ThumbnailOutcome.IGNORED
    job = await ctx.jobs.get(ref.tenant_id, ref.job_id)
    if job is None:
        logger.warning(
            "Job %s of tenant %s is unknown; blob %s ignored", ref.job_id, ref.tenant_id, blob_name
        )
        return ThumbnailOutcome.IGNORED
    with job_span(THUMBNAIL, job, job.id, {"imagegen.image.index": ref.index}, is_error=_unexpected):
        try:
            outcome = await _make_thumbnail(ctx, job, ref, data)
        except ImageNotRecordedYet:
            thumbnail_outcome("early")
            raise
        thumbnail_outcome(outcome)
    return outcome


def _unexpected(error: BaseException) -> bool:
    return not isinstance(error, ImageNotRecordedYet)


async def _make_thumbnail(
    ctx: AppContext, job: JobDocument, ref: ImageBlobRef, data: BlobCreatedData
) -> ThumbnailOutcome:
    container, blob_name = ref.container, ref.blob_name
    output = _output_for(job, ref)
    if output is None:
        if job.status.is_terminal:
            logger.warning("Job %s has no output for blob %s; ignored", job.id, blob_name)
            return ThumbnailOutcome.IGNORED
        raise ImageNotRecordedYet(f"Job {job.id} is {job.status}; output {ref.index} is not recorded yet")
    if output.thumbnail_blob_name and output.etag == normalize_etag(data.e_tag):
        logger.info("Job %s: thumbnail of output %d already made; duplicate event", job.id, ref.index)
        return ThumbnailOutcome.DUPLICATE
    blob = await ctx.images.read(container, blob_name)
    if blob is None:
        logger.warning("Job %s: blob %s no longer exists; event ignored", job.id, blob_name)
        return ThumbnailOutcome.IGNORED
    thumbnail = await asyncio.to_thread(render_thumbnail, blob.data, ctx.settings.thumbnail_max_pixels)
    thumbnails_container = ctx.settings.thumbnails_container
    await ctx.images.upload(
        thumbnails_container,
        ref.thumbnail_blob_name,
        thumbnail,
        content_type=THUMBNAIL_MIME_TYPE,
        metadata={
            "jobId": job.id,
            "tenantId": job.tenant_id,
            "imageIndex": str(ref.index),
            "sourceETag": normalize_etag(blob.etag),
        },
    )

    def record(doc: JobDocument) -> bool:
        current = _output_for(doc, ref)
        etag = normalize_etag(blob.etag)
        if current is None or (current.etag == etag and current.thumbnail_blob_name):
            return False
        current.thumbnail_container = thumbnails_container
        current.thumbnail_blob_name = ref.thumbnail_blob_name
        current.etag = etag
        current.confirmed_bytes = len(blob.data)
        return True

    update = await ctx.jobs.update(job.tenant_id, job.id, record)
    if not update.applied:
        return ThumbnailOutcome.DUPLICATE
    logger.info(
        "Job %s: thumbnail of output %d made (%d bytes, image %d bytes, eTag %s)",
        job.id,
        ref.index,
        len(thumbnail),
        len(blob.data),
        blob.etag,
    )
    return ThumbnailOutcome.CREATED
