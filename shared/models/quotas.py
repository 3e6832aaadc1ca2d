"""Documents of the provider-quota scheduler (container `quotas`, partition key `/scope`, one partition
per `provider/model` with a declared quota), and what a job remembers of its waits.

Times inside the scheduler's documents are seconds since the Unix epoch (floats): they are compared and
added, never shown.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.models.common import ApiModel, StoredModel, UtcDateTime

PACE_DOCUMENT_ID: Literal["pace"] = "pace"


def lane_id(index: int) -> str:
    return f"lane-{index}"


def waiter_id(job_id: str) -> str:
    return f"waiter-{job_id}"


def lease_id(index: int) -> str:
    return f"lease-{index}"


class LaneEntry(ApiModel):
    """A job's provider calls reserved on a lane: when they start, how many calls and images, for which
    job of which tenant."""

    at: float
    images: int
    job: str
    tenant: str = ""
    calls: int = 1


class QuotaLane(StoredModel):
    """One share of a model's quota: the call starts reserved on it within the last window (older ones
    are pruned when it is next written). Written with its etag: workers reserving at the same moment pick
    different lanes, and the one that loses a race on a lane tries another."""

    id: str
    scope: str
    doc_type: Literal["quotaLane"] = "quotaLane"
    entries: list[LaneEntry] = Field(default_factory=list)


class QuotaPace(StoredModel):
    """The model's shared slow-down after the provider refused calls (429): every lane's window is
    stretched by `factor`, which decays back to 1 (see shared/scheduling/pace.py), and no call starts
    before `blocked_until` (the provider's Retry-After)."""

    id: Literal["pace"] = PACE_DOCUMENT_ID
    scope: str
    doc_type: Literal["quotaPace"] = "quotaPace"
    factor: float = 1.0
    at: float = 0.0  # when `factor` was set
    blocked_until: float = 0.0
    refusals: int = 0


class QuotaWaiter(StoredModel):
    """A job waiting for its model's quota: the line its queue position and the fair order come from.
    `due_at` is when its message comes back; one long overdue is ignored (its run or message was lost)."""

    id: str
    scope: str
    doc_type: Literal["quotaWaiter"] = "quotaWaiter"
    job_id: str
    tenant_id: str
    created_at: UtcDateTime
    images: int
    calls: int = 1
    due_at: float
    ttl: int


class QuotaLease(StoredModel):
    """One of a model's concurrent-call slots, held by a run during its provider call."""

    id: str
    scope: str
    doc_type: Literal["quotaLease"] = "quotaLease"
    owner: str
    expires_at: float
    ttl: int


class QuotaWait(ApiModel):
    """What a job remembers of waiting for its model's quota (None on a job that never waited)."""

    since: UtcDateTime  # when it first had to wait: QUOTA_MAX_WAIT_MINUTES counts from here
    waits: int = 0  # times it was put back to wait
    refusals: int = 0  # provider 429s it met (never counted as attempts)
    runs_given_back: int = 0  # runs that claimed it and gave it back for the quota (not attempts either)
