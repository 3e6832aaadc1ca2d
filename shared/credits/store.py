"""The tenant's credits in Cosmos DB: the account's counters and one hold per job, in the tenant's
partition, changed together by transactional batches of atomic increments.

Reserving a job's credits is one batch: create the job's hold and increment the account's `reserved`,
on condition that `balance - reserved` covers it. Settling is one batch: mark the hold settled (on
condition that it is still held) and move its amount on the account (charged: out of `balance` into
`spent`; refunded: only out of `reserved`). Cosmos DB applies a batch all or nothing and evaluates the
conditions on the server, so concurrent submits and settlements of one tenant never overdraw the account
and never retry against each other (no read-modify-write of a shared document), a job is reserved at
most once (its hold exists) and settled at most once (its hold is no longer `held`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from azure.cosmos.exceptions import (
    CosmosBatchOperationError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)

from shared.models.common import iso_utc, utc_now
from shared.models.credits import BALANCE_DOCUMENT_ID, CreditAccount, CreditHold, hold_id
from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

logger = logging.getLogger(__name__)

_NOT_FOUND, _CONFLICT, _PRECONDITION_FAILED = 404, 409, 412


@dataclass(frozen=True)
class Short:
    """Not reserved: the account has only `available` credits."""

    available: int


HoldOutcome = Literal["reserved", "already held", "already settled"] | Short


class CreditStore:
    def __init__(self, container: ContainerProxy, *, initial_balance: int) -> None:
        self._container = container
        self._initial_balance = initial_balance

    async def get(self, tenant_id: str) -> CreditAccount:
        """The tenant's account, opened with the initial balance on first use."""
        return CreditAccount.model_validate(await self._read_or_open(tenant_id))

    async def read_hold(self, tenant_id: str, job_id: str) -> CreditHold | None:
        plain_key(tenant_id, "tenant id")
        plain_key(job_id, "job id")
        try:
            item = await self._container.read_item(hold_id(job_id), partition_key=tenant_id)
        except CosmosResourceNotFoundError:
            return None
        return CreditHold.model_validate(item)

    async def hold(self, tenant_id: str, job_id: str, amount: int) -> HoldOutcome:
        """Reserve `amount` for the job if the account covers it and the job holds nothing yet."""
        plain_key(tenant_id, "tenant id")
        plain_key(job_id, "job id")
        hold = CreditHold(
            id=hold_id(job_id), tenant_id=tenant_id, job_id=job_id, amount=amount, reserved_at=utc_now()
        )
        for _ in range(2):
            operations: list[tuple[Any, ...]] = [
                ("create", (hold.model_dump(mode="json", exclude_none=True),)),
                (
                    "patch",
                    (BALANCE_DOCUMENT_ID, _account_change(reserved=amount, open_reservations=1)),
                    {"filter_predicate": f"FROM c WHERE c.balance - c.reserved >= {int(amount)}"},
                ),
            ]
            try:
                await self._container.execute_item_batch(operations, partition_key=tenant_id)
                return "reserved"
            except CosmosBatchOperationError as error:
                failed = (error.error_index, error.status_code)
                if failed == (0, _CONFLICT):
                    existing = await self.read_hold(tenant_id, job_id)
                    return (
                        "already held" if existing is None or existing.state == "held" else "already settled"
                    )
                if failed == (1, _NOT_FOUND):
                    await self._read_or_open(tenant_id)  # the tenant's first job: open the account, again
                    continue
                if failed == (1, _PRECONDITION_FAILED):
                    account = await self.get(tenant_id)
                    return Short(available=account.balance - account.reserved)
                raise
        raise RuntimeError(f"the credit account of tenant {tenant_id} could not be opened")

    async def settle(
        self, tenant_id: str, job_id: str, *, charge: bool, keep_seconds: int, amount: int | None = None
    ) -> int:
        """Charge (or refund) the job's hold if it is still held; the amount settled, 0 if nothing was
        (never reserved, or settled already). The settled hold is kept `keep_seconds`.

        `amount` (what the job records it reserved) saves reading the hold first: the settling batch
        requires the hold to be held and of that amount, so the account moves by exactly what was held.
        Only when it is not (settled already, or another amount) is the hold read."""
        plain_key(tenant_id, "tenant id")
        plain_key(job_id, "job id")
        if amount is not None:
            settled = await self._settle_hold(
                tenant_id, job_id, amount, charge=charge, keep_seconds=keep_seconds
            )
            if settled is not None:
                return settled
        hold = await self.read_hold(tenant_id, job_id)
        if hold is None or hold.state != "held":
            return 0
        settled = await self._settle_hold(
            tenant_id, job_id, hold.amount, charge=charge, keep_seconds=keep_seconds
        )
        return settled or 0  # None: settled concurrently; that settlement counts, not this one

    async def _settle_hold(
        self, tenant_id: str, job_id: str, amount: int, *, charge: bool, keep_seconds: int
    ) -> int | None:
        """One settling batch, on condition that the job's hold is held and of `amount`: the amount
        settled, 0 when there is no hold, None when the condition failed (the hold is settled, or of
        another amount)."""
        condition = f"FROM c WHERE c.state = 'held' AND c.amount = {int(amount)}"
        settled = [
            {"op": "set", "path": "/state", "value": "charged" if charge else "refunded"},
            {"op": "set", "path": "/settledAt", "value": iso_utc(utc_now())},
            {"op": "set", "path": "/ttl", "value": keep_seconds},
        ]
        account = _account_change(
            reserved=-amount,
            open_reservations=-1,
            balance=-amount if charge else 0,
            spent=amount if charge else 0,
        )
        operations: list[tuple[Any, ...]] = [
            ("patch", (hold_id(job_id), settled), {"filter_predicate": condition}),
            ("patch", (BALANCE_DOCUMENT_ID, account)),
        ]
        try:
            await self._container.execute_item_batch(operations, partition_key=tenant_id)
        except CosmosBatchOperationError as error:
            if error.error_index == 0 and error.status_code == _NOT_FOUND:
                return 0  # never reserved, or removed
            if error.error_index == 0 and error.status_code == _PRECONDITION_FAILED:
                return None
            raise
        return amount

    async def open_holds(self) -> AsyncIterator[CreditHold]:
        """Holds of every tenant still `held` (for the reconciling sweep)."""
        query = "SELECT * FROM c WHERE c.docType = 'creditHold' AND c.state = 'held'"
        async for item in self._container.query_items(query):
            yield CreditHold.model_validate(item)

    async def _read_or_open(self, tenant_id: str) -> dict[str, Any]:
        plain_key(tenant_id, "tenant id")
        while True:
            try:
                return await self._container.read_item(BALANCE_DOCUMENT_ID, partition_key=tenant_id)
            except CosmosResourceNotFoundError:
                pass
            opened = CreditAccount(tenant_id=tenant_id, balance=self._initial_balance, updated_at=utc_now())
            try:
                return await self._container.create_item(opened.model_dump(mode="json"))
            except CosmosResourceExistsError:
                continue  # opened concurrently: read theirs


def _account_change(**increments: int) -> list[dict[str, Any]]:
    """Patch operations that add `increments` to the account's counters (camelCase fields) and stamp it."""
    names = {
        "reserved": "reserved",
        "open_reservations": "openReservations",
        "balance": "balance",
        "spent": "spent",
    }
    operations: list[dict[str, Any]] = [
        {"op": "incr", "path": f"/{names[name]}", "value": value}
        for name, value in increments.items()
        if value
    ]
    operations.append({"op": "set", "path": "/updatedAt", "value": iso_utc(utc_now())})
    return operations
