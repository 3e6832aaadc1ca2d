"""Queueing a webhook delivery when a job reaches an event its submitter asked for.

Called after the job's state is written. Queueing never changes the job or the caller's answer: a
`queued` or `running` event that cannot be queued is logged and given up; the `completed` event stays
recorded on the job until it is queued (shared/jobs/ending.py).
"""

from __future__ import annotations

import logging

from shared.app_context import AppContext
from shared.library.images import image_id
from shared.library.links import permanent_url
from shared.models.common import utc_now
from shared.models.jobs import JobDocument, WebhookEvent
from shared.models.webhooks import (
    WebhookJobData,
    WebhookMessage,
    WebhookOutput,
    WebhookPayload,
    event_type,
)

logger = logging.getLogger(__name__)


async def notify_webhook(ctx: AppContext, job: JobDocument, event: WebhookEvent) -> bool:
    """Queue the delivery of `event` if the job asked for it; False only when queueing failed."""
    if not job.webhook or event not in job.webhook_events:
        return True
    try:
        payload = WebhookPayload(type=event_type(event), timestamp=utc_now(), data=await _job_data(ctx, job))
        message = WebhookMessage(
            webhook_id=f"{job.id}.{event}",
            tenant_id=job.tenant_id,
            job_id=job.id,
            url=job.webhook,
            body=payload.model_dump_json(),
            traceparent=job.traceparent,
            tracestate=job.tracestate,
        )
        await ctx.webhook_queue.enqueue(message)
        logger.info("Job %s: webhook %s queued", job.id, event)
    except Exception:
        logger.error("Job %s: webhook %s could not be queued", job.id, event, exc_info=True)
        return False
    return True


async def _job_data(ctx: AppContext, job: JobDocument) -> WebhookJobData:
    outputs = [
        WebhookOutput(
            id=image_id(job.id, image.index),
            url=await ctx.images.read_url(image.container, image.blob_name),
            permanent_url=permanent_url(ctx.settings, job, image),
            mime_type=image.mime_type,
            width=image.width,
            height=image.height,
        )
        for image in job.outputs
    ]
    status_url = f"{job.api_base_url}/v1/images/generations/{job.id}" if job.api_base_url else None
    return WebhookJobData(
        id=job.id,
        status=job.status,
        created_at=job.created_at,
        completed_at=job.completed_at,
        preset_id=job.preset_id,
        outputs=outputs,
        error=job.error,
        status_query_get_uri=status_url,
    )
