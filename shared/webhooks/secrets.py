"""Per-tenant webhook signing secrets in Cosmos DB, created on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure.cosmos.exceptions import CosmosResourceExistsError, CosmosResourceNotFoundError

from shared.models.common import utc_now
from shared.models.webhooks import WEBHOOK_SECRET_DOCUMENT_ID, WebhookSecretDocument
from shared.store_keys import plain_key
from shared.webhooks.signing import new_secret

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy


class WebhookSecretStore:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def get(self, tenant_id: str) -> str:
        """The tenant's secret; the first caller creates it (concurrent first callers agree on one)."""
        plain_key(tenant_id, "tenant id")
        while True:
            try:
                item = await self._container.read_item(WEBHOOK_SECRET_DOCUMENT_ID, partition_key=tenant_id)
                return WebhookSecretDocument.model_validate(item).secret
            except CosmosResourceNotFoundError:
                pass
            document = WebhookSecretDocument(tenant_id=tenant_id, secret=new_secret(), created_at=utc_now())
            try:
                await self._container.create_item(document.model_dump(mode="json"))
                return document.secret
            except CosmosResourceExistsError:
                continue
