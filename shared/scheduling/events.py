"""What the scheduler does, as named events: log records, and each wait also the telemetry metric
`imagegen.jobs.quota_wait` (shared/telemetry/jobs.py).

Each event is logged once, at the moment it happens, with its name, the model's scope and the job in
the record's `extra` (`quota_event`, `quota_scope`, `job_id`), plus the event's own fields.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("shared.scheduling")

SLOT_RESERVED = "quota.slot_reserved"  # a job got a call start on a lane (fields: lane, in_seconds)
WAITING = "quota.waiting"  # a job was put back to wait its turn (fields: position, delay_seconds)
SLOT_GIVEN_BACK = "quota.slot_given_back"  # an unused reservation was removed from its lane
RUN_GIVEN_BACK = "quota.run_given_back"  # a claimed run gave its job back (fields: refused, delay_seconds)
REFUSED = "quota.refused"  # the provider refused a call with 429 (fields: retry_after, factor)
TIMED_OUT = "quota.timed_out"  # a job waited longer than QUOTA_MAX_WAIT_MINUTES


def quota_event(
    name: str, scope: str, job_id: str, message: str, *args: Any, level: int = logging.INFO, **fields: Any
) -> None:
    extra = {"quota_event": name, "quota_scope": scope, "job_id": job_id, **fields}
    logger.log(level, message, *args, extra=extra)
