"""A minimal stored job, for unit tests that only need its status, error or origin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.models.jobs import GenerationSpec, JobDocument, JobError, JobStatus


def stored_job(status: JobStatus, error: JobError | None = None, **fields: Any) -> JobDocument:
    now = datetime.now(UTC)
    return JobDocument(
        id="j",
        tenant_id="t",
        status=status,
        spec=GenerationSpec(prompt="p", provider="gemini", model="m", aspect_ratio="1:1"),
        created_at=now,
        updated_at=now,
        error=error,
        **fields,
    )
