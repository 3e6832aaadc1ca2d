"""Preset documents in Cosmos DB, partitioned by tenant; replaced with etag guards."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

from shared.cosmos import Query, query_page
from shared.models.presets import PresetDocument
from shared.store_keys import plain_key

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

logger = logging.getLogger(__name__)


class PresetStore:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def create(self, preset: PresetDocument) -> None:
        _check_keys(preset)
        await self._container.create_item(preset.model_dump(mode="json"))

    async def get(self, tenant_id: str, preset_id: str) -> PresetDocument | None:
        item = await self._read(tenant_id, preset_id)
        return None if item is None else PresetDocument.model_validate(item)

    async def replace(self, preset: PresetDocument, *, etag: str | None = None) -> bool:
        """Replace the stored preset; with `etag`, only if it is unchanged. False if it is gone (or
        changed)."""
        _check_keys(preset)
        options: dict[str, Any] = {}
        if etag is not None:
            options = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        try:
            await self._container.replace_item(preset.id, preset.model_dump(mode="json"), **options)
        except (CosmosResourceNotFoundError, CosmosAccessConditionFailedError):
            return False
        return True

    async def read_with_etag(self, tenant_id: str, preset_id: str) -> tuple[PresetDocument, str] | None:
        item = await self._read(tenant_id, preset_id)
        return None if item is None else (PresetDocument.model_validate(item), item["_etag"])

    async def delete(self, tenant_id: str, preset_id: str) -> bool:
        try:
            await self._container.delete_item(
                plain_key(preset_id, "preset id"), partition_key=plain_key(tenant_id, "tenant id")
            )
        except CosmosResourceNotFoundError:
            return False
        return True

    async def page(
        self, tenant_id: str, *, limit: int, continuation: str | None
    ) -> tuple[list[PresetDocument], str | None]:
        query = Query(
            ("c.tenantId = @tenant", "c.docType = 'preset'"),
            [{"name": "@tenant", "value": tenant_id}],
            partition_key=tenant_id,
            order="ORDER BY c.createdAt DESC",
        )
        return await query_page(
            self._container, query, limit=limit, continuation=continuation, model=PresetDocument
        )

    async def _read(self, tenant_id: str, preset_id: str) -> dict[str, Any] | None:
        try:
            return await self._container.read_item(
                plain_key(preset_id, "preset id"), partition_key=plain_key(tenant_id, "tenant id")
            )
        except CosmosResourceNotFoundError:
            return None


def _check_keys(preset: PresetDocument) -> None:
    plain_key(preset.id, "preset id")
    plain_key(preset.tenant_id, "tenant id")
