"""Deleting a job: soft by default (hidden from reads unless asked for), hard removes the document and
its images. A job still in progress is canceled first so no worker stores images for it afterwards."""

from __future__ import annotations

import logging

from shared.app_context import AppContext
from shared.errors import not_found
from shared.ids import is_job_id
from shared.jobs.cancel import mark_canceled
from shared.models.common import utc_now
from shared.models.jobs import JobDocument

logger = logging.getLogger(__name__)


async def delete_job(ctx: AppContext, tenant_id: str, job_id: str, *, hard: bool) -> None:
    job = await ctx.jobs.get(tenant_id, job_id) if is_job_id(job_id) else None
    # A soft-deleted job can still be purged; it cannot be deleted softly twice.
    if job is None or (job.deleted_at is not None and not hard):
        raise not_found(f"Job {job_id!r}")
    if not job.status.is_terminal:
        # The job as it ended: it may have succeeded (with images) just before the cancel.
        job, _ = await mark_canceled(ctx, tenant_id, job_id)
        if job is None:
            raise not_found(f"Job {job_id!r}")
    if hard:
        await purge_job(ctx, job)
        return

    def mark_deleted(doc: JobDocument) -> bool:
        if doc.deleted_at is not None:
            return False
        doc.deleted_at = utc_now()
        return True

    await ctx.jobs.update(tenant_id, job_id, mark_deleted)
    logger.info("Job %s deleted (soft)", job_id)


async def purge_job(ctx: AppContext, job: JobDocument) -> None:
    # Images first: a crash in between leaves a document to purge again, never orphaned blobs.
    for image in job.outputs:
        await ctx.images.delete(image.container, image.blob_name)
    await ctx.jobs.delete(job.tenant_id, job.id)
    logger.info("Job %s purged with %d image(s)", job.id, len(job.outputs))
