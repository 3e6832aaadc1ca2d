"""API keys: their format, the keyed hash they are stored under, and the Cosmos DB store.

A key reads `igk_<keyId>_<secret>`. The key id is the document id (and partition key) of the stored
key, so authenticating is one point read; the document holds only HMAC-SHA256(API_KEY_HASH_SECRET, key),
so neither a leaked database nor a leaked backup yields a usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import TYPE_CHECKING

from azure.core import MatchConditions
from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

from shared.models.auth import ApiKeyDocument, Scope
from shared.models.common import utc_now
from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

logger = logging.getLogger(__name__)

KEY_PREFIX = "igk"
_KEY = re.compile(rf"{KEY_PREFIX}_([0-9a-f]{{16}})_([A-Za-z0-9_-]{{40,64}})")


def new_key() -> tuple[str, str]:
    """A fresh `(key_id, key)`."""
    key_id = secrets.token_hex(8)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(key: str) -> str | None:
    """The key id a presented key carries, or None when it is not in our format."""
    match = _KEY.fullmatch(key)
    return match.group(1) if match else None


def hash_key(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def key_matches(secret: str, key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(secret, key), stored_hash)


class ApiKeyStore:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def create(
        self, *, secret: str, tenant_id: str, name: str | None, scopes: list[Scope], rate_limit: int
    ) -> tuple[ApiKeyDocument, str]:
        """Store a new key; returns the document and the plain key (which is not stored)."""
        key_id, key = new_key()
        plain_key(tenant_id, "tenant id")
        document = ApiKeyDocument(
            id=key_id,
            tenant_id=tenant_id,
            name=name,
            key_hash=hash_key(secret, key),
            scopes=sorted(set(scopes)),
            rate_limit=rate_limit,
            created_at=utc_now(),
        )
        await self._container.create_item(document.model_dump(mode="json"))
        logger.info("Created API key %s for tenant %s", key_id, tenant_id)
        return document, key

    async def get(self, key_id: str) -> ApiKeyDocument | None:
        plain_key(key_id, "API key id")
        try:
            item = await self._container.read_item(key_id, partition_key=key_id)
        except CosmosResourceNotFoundError:
            return None
        return ApiKeyDocument.model_validate(item)

    async def list(self, tenant_id: str | None = None) -> list[ApiKeyDocument]:
        """Keys newest first, of one tenant or all (a cross-partition query: admin use only)."""
        query = "SELECT * FROM c WHERE c.docType = 'apiKey'"
        parameters: list[dict[str, object]] = []
        if tenant_id is not None:
            query += " AND c.tenantId = @tenant"
            parameters.append({"name": "@tenant", "value": tenant_id})
        items = [item async for item in self._container.query_items(query, parameters=parameters)]
        documents = [ApiKeyDocument.model_validate(item) for item in items]
        return sorted(documents, key=lambda d: d.created_at, reverse=True)

    async def revoke(self, key_id: str) -> ApiKeyDocument | None:
        """Mark the key revoked (idempotent: a revoked key keeps its first revocation time)."""
        plain_key(key_id, "API key id")
        while True:
            try:
                item = await self._container.read_item(key_id, partition_key=key_id)
            except CosmosResourceNotFoundError:
                return None
            document = ApiKeyDocument.model_validate(item)
            if document.revoked_at is not None:
                return document
            document.revoked_at = utc_now()
            try:
                await self._container.replace_item(
                    key_id,
                    document.model_dump(mode="json"),
                    etag=item["_etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
            except CosmosAccessConditionFailedError:
                continue
            logger.info("Revoked API key %s of tenant %s", key_id, document.tenant_id)
            return document
