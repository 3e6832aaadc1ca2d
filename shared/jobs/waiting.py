"""Sync mode (`Prefer: wait=N`): hold a submit until its job ends or the wait runs out."""

from __future__ import annotations

import re

from shared import clock
from shared.app_context import AppContext
from shared.models.jobs import JobDocument

_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*\"?(\d{1,6})\"?", re.IGNORECASE)


def requested_wait(prefer: str | None, maximum: int) -> int | None:
    """The seconds a `Prefer` header asks to wait, capped at `maximum`; None when it asks for none (an
    unparsable preference is ignored, as RFC 7240 allows)."""
    if not prefer:
        return None
    match = _WAIT.search(prefer)
    if match is None:
        return None
    seconds = min(int(match.group(1)), maximum)
    return seconds if seconds > 0 else None


async def wait_for_terminal(ctx: AppContext, job: JobDocument, seconds: float) -> JobDocument:
    """The job once terminal, or as it stands when `seconds` have passed."""
    deadline = clock.monotonic() + seconds
    interval = ctx.settings.sync_poll_interval_seconds
    while not job.status.is_terminal:
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            break
        await clock.sleep(min(interval, remaining))
        current = await ctx.jobs.get(job.tenant_id, job.id)
        if current is None:
            break
        job = current
    return job
