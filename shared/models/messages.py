"""Queue messages: ids only (claim-check), never the payload; a queue message is at most 64 KB.

The service sends messages as plain JSON text and the host hands them over undecoded (host.json
`messageEncoding: none`), so every trigger, the poison queue's included, receives exactly what was sent
and decides itself what to do with a message that is not one of ours. Base64-encoded JSON (what many
tools send by default, and what earlier versions of this service sent) is accepted too.
"""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel, ValidationError

from shared.models.common import ApiModel


class JobMessage(ApiModel):
    job_id: str
    tenant_id: str


def parse_queue_message[M: BaseModel](body: bytes, model: type[M]) -> M:
    """The message as `model`: JSON text, or base64 of it. ValidationError when it is neither."""
    try:
        return model.model_validate_json(body)
    except ValidationError as as_text:
        try:
            decoded = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise as_text from None
        if not decoded.lstrip().startswith(b"{"):
            raise as_text from None
        return model.model_validate_json(decoded)
