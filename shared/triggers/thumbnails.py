"""Event Grid trigger: a blob was created in the generated-images container; make its thumbnail."""

from __future__ import annotations

import logging

import azure.functions as func
from pydantic import ValidationError

from shared.app_context import get_context
from shared.images.thumbnails import process_blob_created
from shared.models.events import BlobCreatedData

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.event_grid_trigger(arg_name="event")
async def make_thumbnail(event: func.EventGridEvent) -> None:
    # The worker hands a CloudEvents 1.0 delivery over as func.CloudEvent, whose type is `type`.
    event_type = event.type if isinstance(event, func.CloudEvent) else event.event_type
    try:
        data = BlobCreatedData.model_validate(event.get_json())
    except ValidationError as error:
        # Retrying cannot fix a malformed event: dropping it changes nothing.
        logger.warning("Event %s (%s) has no blob data; ignored: %s", event.id, event_type, error)
        return
    outcome = await process_blob_created(
        get_context(), event_type=event_type, subject=event.subject or "", data=data
    )
    logger.info("Event %s (%s %s): %s", event.id, event_type, event.subject, outcome)
