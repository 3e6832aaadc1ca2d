"""Preset CRUD: the core the `/api/v1/presets` routes call."""

from __future__ import annotations

import logging

from shared.app_context import AppContext
from shared.errors import invalid_field, not_found
from shared.ids import is_preset_id, new_preset_id
from shared.models.common import utc_now
from shared.models.presets import PresetDocument, PresetInput, PresetListQuery
from shared.paging import decode_page_token, encode_page_token, fingerprint
from shared.providers.catalog import UnknownModelError

logger = logging.getLogger(__name__)


async def create_preset(ctx: AppContext, tenant_id: str, body: PresetInput) -> PresetDocument:
    _check_defaults(ctx, body)
    now = utc_now()
    preset = PresetDocument(
        id=new_preset_id(),
        tenant_id=tenant_id,
        created_at=now,
        updated_at=now,
        **_fields(body),
    )
    await ctx.presets.create(preset)
    logger.info("Preset %s created for tenant %s", preset.id, tenant_id)
    return preset


async def get_preset(ctx: AppContext, tenant_id: str, preset_id: str) -> PresetDocument:
    preset = await ctx.presets.get(tenant_id, preset_id) if is_preset_id(preset_id) else None
    if preset is None:
        raise not_found(f"Preset {preset_id!r}")
    return preset


async def replace_preset(
    ctx: AppContext, tenant_id: str, preset_id: str, body: PresetInput
) -> PresetDocument:
    _check_defaults(ctx, body)
    while True:
        current = await ctx.presets.read_with_etag(tenant_id, preset_id) if is_preset_id(preset_id) else None
        if current is None:
            raise not_found(f"Preset {preset_id!r}")
        preset, etag = current
        updated = preset.model_copy(update={**_fields(body), "updated_at": utc_now()})
        if await ctx.presets.replace(updated, etag=etag):
            logger.info("Preset %s replaced", preset_id)
            return updated


async def delete_preset(ctx: AppContext, tenant_id: str, preset_id: str) -> None:
    # Jobs keep the preset's id and name: their library entries stay findable after the preset is gone.
    if not is_preset_id(preset_id) or not await ctx.presets.delete(tenant_id, preset_id):
        raise not_found(f"Preset {preset_id!r}")
    logger.info("Preset %s deleted", preset_id)


async def list_presets(
    ctx: AppContext, tenant_id: str, query: PresetListQuery
) -> tuple[list[PresetDocument], str | None]:
    owner = fingerprint("presets", tenant_id, query.limit)
    presets, token = await ctx.presets.page(
        tenant_id, limit=query.limit, continuation=decode_page_token(query.page_token, owner)
    )
    return presets, encode_page_token(token, owner)


def _check_defaults(ctx: AppContext, body: PresetInput) -> None:
    if body.default_provider is None and body.default_model is None:
        return
    try:
        ctx.providers.catalog.resolve(body.default_provider, body.default_model)
    except UnknownModelError as exc:
        field = "defaultProvider" if exc.field == "provider" else "defaultModel"
        raise invalid_field(field, str(exc)) from exc


def _fields(body: PresetInput) -> dict[str, object]:
    return body.model_dump()
