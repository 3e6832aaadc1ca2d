"""Credits (seed 002): a per-tenant balance, reservations held by unfinished jobs, and usage."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.models.common import ApiModel, StoredModel, UtcDateTime

BALANCE_DOCUMENT_ID: Literal["balance"] = "balance"


class Reservation(ApiModel):
    amount: int
    reserved_at: UtcDateTime


class CreditAccount(StoredModel):
    """A tenant's credits (container `credits`, partition key `/tenantId`, id `balance`).

    `balance` is what the tenant owns; `reserved` is held by unfinished jobs (one entry per job in
    `reservations`); what a new job may use is `balance - reserved`. A reservation is removed when it is
    committed (charged) or refunded, so settling a job twice finds nothing the second time; the job is then
    remembered in `settled` for a while, so a late second reservation for it (a job queued again after a
    crash, just as it ended) is refused rather than charged again."""

    id: Literal["balance"] = BALANCE_DOCUMENT_ID
    tenant_id: str
    doc_type: Literal["creditAccount"] = "creditAccount"
    balance: int
    reserved: int = 0
    spent: int = 0
    reservations: dict[str, Reservation] = Field(default_factory=dict)
    settled: dict[str, UtcDateTime] = Field(default_factory=dict)  # job id -> when it was settled
    updated_at: UtcDateTime


class UsageView(ApiModel):
    """`GET /api/v1/usage`."""

    balance: int = Field(description="Credits owned (granted minus spent).")
    reserved: int = Field(description="Credits held by queued and running jobs.")
    available: int = Field(description="Credits a new job may use: balance minus reserved.")
    spent: int = Field(description="Credits charged for succeeded jobs.")
    open_reservations: int = Field(description="Jobs currently holding credits.")
