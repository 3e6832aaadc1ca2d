"""Seed 002 on the native core: its request as a native `GenerationRequest`, and native jobs, library
images and credits in the seed's shapes. Storage, queueing and providers are the native ones."""

from __future__ import annotations

import json

from shared.app_context import AppContext
from shared.compat import kit
from shared.compat.seed002_models import (
    V0Credits,
    V0Error,
    V0GenerationRequest,
    V0Image,
    V0Job,
    V0LibraryImage,
    V0LibraryImageDetail,
    V0Status,
    V0Usage,
)
from shared.credits.ledger import usage
from shared.errors import ApiError, invalid_field
from shared.http.endpoint import ErrorShape
from shared.images.thumbnails import thumbnail_url
from shared.jobs.references import SubmitPolicy
from shared.jobs.service import image_view
from shared.library.images import LibraryImage
from shared.models.errors import ErrorCode
from shared.models.jobs import MAX_REFERENCE_IMAGES, GenerationRequest, JobDocument, JobStatus, ResponseFormat
from shared.providers.catalog import ProviderCatalog
from shared.settings import Settings

ROUTE_FAMILY = "seed002"

# A failed job in sync mode: the caller's own problem is a 422, the provider's a 502.
FAILURES = kit.FailureMap(
    by_code=dict.fromkeys(
        (ErrorCode.CONTENT_POLICY, ErrorCode.INVALID_INPUT, ErrorCode.NO_IMAGE), kit.Failure(422)
    ),
    otherwise=kit.Failure(502),
    details=lambda job, _: {"jobId": job.id},
)

# Native field names as the seed's clients know them (in validation errors); the others are the same.
_SEED_FIELDS = {
    "n": "sampleCount",
    "model": "modelVersion",
    "provider": "modelVersion",  # the provider is the one offering `modelVersion`
    "referenceImages": "refImageBase64",
}

# The seed's flat error body.
render_error = kit.error_renderer(
    lambda error: V0Error(error=error.message, code=error.code, details=error.details)
)
ERROR_SHAPE = ErrorShape(V0Error, render_error)


def submit_policy(settings: Settings) -> SubmitPolicy:
    """`sampleCount` is 1-10 as documented (SEED002_MAX_SAMPLES), not the native MAX_IMAGES_PER_JOB."""
    return SubmitPolicy(max_images=settings.seed002_max_samples)


def seed_fields(request: V0GenerationRequest) -> kit.FieldNames:
    """Native field names as the seed's: `n` is `sampleCount`, `referenceImages[i]` the i-th of
    `refImageBase64` then `refImageUrls` (in the order `to_native` joins them)."""
    inline = len(request.ref_image_base64)

    def reference(index: int, rest: str) -> str | None:
        if index < inline:
            return f"refImageBase64[{index}]" + rest.replace(".b64", ".data")
        if index < inline + len(request.ref_image_urls):
            return f"refImageUrls[{index - inline}]"
        return None  # a file of the multipart form (after the body's references)

    return kit.field_names(_SEED_FIELDS, reference=reference)


def in_seed_terms(error: ApiError, request: V0GenerationRequest) -> ApiError:
    """A native 400 in the seed's field names (`seed_fields`)."""
    return kit.in_family_terms(error, seed_fields(request))


def to_native(request: V0GenerationRequest, catalog: ProviderCatalog) -> GenerationRequest:
    """The seed's body as the native request; `modelVersion` picks the provider that offers it."""
    references = len(request.ref_image_base64) + len(request.ref_image_urls)
    if references > MAX_REFERENCE_IMAGES:
        raise invalid_field(
            "refImageBase64",
            f"at most {MAX_REFERENCE_IMAGES} reference images in total (refImageBase64 and refImageUrls "
            "together)",
            detail=f"at most {MAX_REFERENCE_IMAGES} in total",
        )
    fields: dict[str, object] = {
        "prompt": request.prompt or None,  # empty means "the preset's template alone"
        "negativePrompt": request.negative_prompt,
        "presetId": request.preset_id,
        "variables": {key: _text(value) for key, value in request.variables.items()},
        "resolution": request.resolution,
        "n": request.sample_count,
        "isPublic": request.is_public,
        "referenceImages": [
            *({"b64": ref.data, "mimeType": ref.mime_type} for ref in request.ref_image_base64),
            *({"url": url} for url in request.ref_image_urls),
        ],
        "aspectRatio": request.aspect_ratio,  # unset, a preset's default applies
    }
    if request.model_version is not None:
        fields["provider"] = provider_of(catalog, request.model_version)
        fields["model"] = request.model_version
    return kit.native_request(fields, seed_fields(request))


def provider_of(catalog: ProviderCatalog, model: str) -> str:
    configured = catalog.configured()
    for provider, models in configured.items():
        if model in models:
            return provider
    available = ", ".join(m for models in configured.values() for m in models)
    raise invalid_field(
        "modelVersion", f"unknown model {model!r}; available: {available}", detail="unknown model"
    )


async def job_result(ctx: AppContext, job: JobDocument, response_format: ResponseFormat) -> V0Job:
    images = None
    if job.status == JobStatus.SUCCEEDED:
        images = []
        for stored in job.outputs:
            view = await image_view(ctx, job, stored, response_format)
            images.append(
                V0Image(
                    id=view.id or "",
                    url=view.url,
                    storage_key=stored.blob_name,
                    width=view.width,
                    height=view.height,
                    b64_json=view.b64_json,
                )
            )
    failed = job.status in (JobStatus.FAILED, JobStatus.CANCELED)
    return V0Job(
        id=job.id,
        status=V0Status.from_job(job.status),
        created=int(job.created_at.timestamp()),
        model=job.spec.model,
        data=images,
        usage=V0Usage(credits=job.credits or 0) if job.status == JobStatus.SUCCEEDED else None,
        error=(job.error.message if job.error else "The generation was canceled.") if failed else None,
    )


async def library_image(ctx: AppContext, item: LibraryImage) -> V0LibraryImage:
    return V0LibraryImage.model_validate(await _library_fields(ctx, item))


async def library_image_detail(ctx: AppContext, item: LibraryImage) -> V0LibraryImageDetail:
    fields = await _library_fields(ctx, item)
    fields.update(prompt=item.job.spec.prompt, variables=item.job.variables, source_type=None)
    return V0LibraryImageDetail.model_validate(fields)


async def credits(ctx: AppContext, tenant_id: str) -> V0Credits:
    view = await usage(ctx, tenant_id)
    return V0Credits(credits=view.available, balance=view.balance, reserved=view.reserved, spent=view.spent)


async def _library_fields(ctx: AppContext, item: LibraryImage) -> dict[str, object]:
    job, image = item.job, item.image
    return {
        "id": item.id,
        "url": await ctx.images.read_url(image.container, image.blob_name),
        "thumbnail_url": await thumbnail_url(ctx.images, image),
        "width": image.width,
        "height": image.height,
        "preset_id": job.preset_id,
        "model_version": job.spec.model,
        # What the caller typed: the preset's extra text, or the whole prompt without a preset.
        "user_prompt": (job.user_prompt or "") if job.preset_id else job.spec.prompt,
        "is_public": job.is_public,
        "created_at": job.created_at,
    }


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)
