"""Native API: `/api/v1/models`, the providers and models a request may name and what each can take."""

from __future__ import annotations

import logging
from typing import get_args

import azure.functions as func

from shared.app_context import get_context
from shared.http.auth import authenticate
from shared.http.endpoint import Auth, endpoint
from shared.http.responses import json_response
from shared.models.catalog import ModelCatalog, ModelInfo, ProviderInfo
from shared.models.jobs import ASPECT_RATIOS, Resolution
from shared.providers.parameters import CAPABILITIES

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@endpoint(
    bp, "GET", "v1/models", summary="Providers and models offered, with what each model can take",
    auth=Auth.READ, responses={200: ModelCatalog},
)  # fmt: skip
async def list_models(req: func.HttpRequest) -> func.HttpResponse:
    ctx = get_context()
    await authenticate(req, ctx)
    catalog = ctx.providers.catalog
    providers: dict[str, ProviderInfo] = {}
    for choice in catalog.choices():
        provider = providers.setdefault(
            choice.provider.value,
            ProviderInfo(
                name=choice.provider.value, is_default=choice.provider == catalog.default_provider, models=[]
            ),
        )
        capabilities = CAPABILITIES[choice.family]
        provider.models.append(
            ModelInfo(
                id=choice.model,
                family=choice.family.value,
                is_default=not provider.models,
                max_reference_images=capabilities.max_reference_images,
                mask=capabilities.mask,
                negative_prompt=capabilities.negative_prompt,
                sizes=list(capabilities.sizes),
                qualities=list(capabilities.qualities),
                styles=list(capabilities.styles),
            )
        )
    return json_response(
        ModelCatalog(
            providers=list(providers.values()),
            aspect_ratios=list(ASPECT_RATIOS),
            resolutions=list(get_args(Resolution)),
            max_images_per_job=ctx.settings.max_images_per_job,
        )
    )
