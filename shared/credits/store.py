"""The tenant's credit account in Cosmos DB: one document, every change an etag-guarded replace.

Reserve, commit and refund each change the balance and the job's reservation entry in the same write,
so a crash can leave an operation undone but never half done, and a replayed operation is a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)

from shared.models.common import utc_now
from shared.models.credits import BALANCE_DOCUMENT_ID, CreditAccount
from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

logger = logging.getLogger(__name__)

# Change the account in place and return True, or return False to leave it as it is.
AccountChange = Callable[[CreditAccount], bool]


class CreditStore:
    def __init__(self, container: ContainerProxy, *, initial_balance: int) -> None:
        self._container = container
        self._initial_balance = initial_balance

    async def get(self, tenant_id: str) -> CreditAccount:
        """The tenant's account, opened with the initial balance on first use."""
        item = await self._read_or_open(tenant_id)
        return CreditAccount.model_validate(item)

    async def change(self, tenant_id: str, change: AccountChange) -> CreditAccount:
        """Apply `change` and replace the account if nobody wrote it meanwhile; else re-read and retry."""
        while True:
            item = await self._read_or_open(tenant_id)
            account = CreditAccount.model_validate(item)
            if not change(account):
                return account
            account.updated_at = utc_now()
            try:
                await self._container.replace_item(
                    BALANCE_DOCUMENT_ID,
                    account.model_dump(mode="json"),
                    etag=item["_etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                return account
            except CosmosAccessConditionFailedError:
                logger.info("Credit account of tenant %s changed concurrently; applying again", tenant_id)

    async def with_reservations(self) -> AsyncIterator[CreditAccount]:
        """Accounts of every tenant that hold at least one reservation (for the reconciling sweep)."""
        query = "SELECT * FROM c WHERE c.docType = 'creditAccount' AND c.reserved > 0"
        async for item in self._container.query_items(query):
            yield CreditAccount.model_validate(item)

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
