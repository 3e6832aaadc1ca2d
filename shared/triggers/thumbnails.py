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
    try:
        data = BlobCreatedData.model_validate(event.get_json())
    except ValidationError as error:
        # Retrying cannot fix a malformed event: dropping it changes nothing.
        logger.warning("Event %s (%s) has no blob data; ignored: %s", event.id, event.event_type, error)
        return
    outcome = await process_blob_created(
        get_context(), event_type=event.event_type, subject=event.subject, data=data
    )
    logger.info("Event %s (%s %s): %s", event.id, event.event_type, event.subject, outcome)
