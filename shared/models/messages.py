"""Queue messages: ids only (claim-check), never the payload; a queue message is at most 64 KB."""

from __future__ import annotations

from shared.models.common import ApiModel


class JobMessage(ApiModel):
    job_id: str
    tenant_id: str
