"""Credits (seed 002): a per-tenant balance, the holds of unfinished jobs, and usage."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.models.common import ApiModel, StoredModel, UtcDateTime

BALANCE_DOCUMENT_ID: Literal["balance"] = "balance"

HoldState = Literal["held", "charged", "refunded"]


def hold_id(job_id: str) -> str:
    return f"hold-{job_id}"


class CreditAccount(StoredModel):
    """A tenant's credit counters (container `credits`, partition key `/tenantId`, id `balance`).

    `balance` is what the tenant owns; `reserved` is held by unfinished jobs (`open_reservations` of
    them, one CreditHold each); what a new job may use is `balance - reserved`. The counters are only
    ever changed by atomic increments, together with the hold they belong to (one transactional batch):
    concurrent submits and settlements never retry against each other, and the account never goes below
    what is reserved."""

    id: Literal["balance"] = BALANCE_DOCUMENT_ID
    tenant_id: str
    doc_type: Literal["creditAccount"] = "creditAccount"
    balance: int
    reserved: int = 0
    spent: int = 0
    open_reservations: int = 0
    updated_at: UtcDateTime


class CreditHold(StoredModel):
    """One job's credits (same container and partition as its tenant's account, id `hold-{jobId}`):
    `held` from its reservation until it is settled, then `charged` or `refunded`. A settled hold is kept
    (its `ttl` set) longer than the job could be queued again, so a late second reservation for the job
    finds it and is refused rather than charged again; settling it again finds it settled."""

    id: str
    tenant_id: str
    doc_type: Literal["creditHold"] = "creditHold"
    job_id: str
    amount: int
    state: HoldState = "held"
    reserved_at: UtcDateTime
    settled_at: UtcDateTime | None = None
    ttl: int | None = None


class UsageView(ApiModel):
    """`GET /api/v1/usage`."""

    balance: int = Field(description="Credits owned (granted minus spent).")
    reserved: int = Field(description="Credits held by queued and running jobs.")
    available: int = Field(description="Credits a new job may use: balance minus reserved.")
    spent: int = Field(description="Credits charged for succeeded jobs.")
    open_reservations: int = Field(description="Jobs currently holding credits.")
