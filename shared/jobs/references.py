"""Reference images and masks at submit: read from base64, a URL or an earlier output, checked, stored.

Runs on the HTTP path, so it reads image headers itself (`shared.images.sniff`) rather than with Pillow.
Every problem is a 400 before anything is queued; what passes is stored in the inputs container and the
job names the blobs (the queue message stays ids only).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime

from shared.app_context import AppContext
from shared.errors import ApiError, invalid_field, invalid_fields
from shared.ids import is_job_id, split_image_id
from shared.images.inspect import EXTENSION_BY_MIME
from shared.images.sniff import MIME_PNG, NotAnImageError, SniffedImage, sniff_image
from shared.images.store import input_blob_name
from shared.library.images import linked_image
from shared.library.links import target_of_url
from shared.models.jobs import GenerationRequest, ImageInput
from shared.net.fetcher import FetchPolicy, FetchRefused, SafeFetcher
from shared.providers.catalog import ModelChoice
from shared.providers.parameters import check_request

_REFERENCE_FIELD = re.compile(r"referenceImages(?:\[(\d+)\]|\.(\d+))(.*)")
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class SubmitPolicy:
    """What a route family's document allows where it differs from the native API's settings."""

    max_images: int | None = None  # largest `n`; None: MAX_IMAGES_PER_JOB
    # Fetch https URLs of any public host (every address check stays), not only FETCH_ALLOWED_HOSTS.
    fetch_public_hosts: bool = False


NATIVE_POLICY = SubmitPolicy()


@dataclass
class StoredInputs:
    reference_blobs: list[str] = field(default_factory=list)
    mask_blob: str | None = None


@dataclass(frozen=True)
class _Loaded:
    data: bytes
    image: SniffedImage


def split_reference_field(field_name: str) -> tuple[int, str] | None:
    """A field naming one reference image, `referenceImages[2].url` (or pydantic's `referenceImages.2.url`),
    as (2, ".url"); None for any other field. Route families rename these to their callers' fields."""
    match = _REFERENCE_FIELD.fullmatch(field_name)
    if match is None:
        return None
    return int(match[1] or match[2]), match[3]


def check_parameters(
    ctx: AppContext, choice: ModelChoice, request: GenerationRequest, policy: SubmitPolicy = NATIVE_POLICY
) -> list[str]:
    """The request's knobs against the chosen model family: a 400 naming every problem, else the warnings
    to store on the job (parameters the family ignores)."""
    max_images = policy.max_images or ctx.settings.max_images_per_job
    problems, warnings = check_request(choice.family, request, max_images=max_images)
    if problems:
        raise invalid_fields(problems, name_all=True)
    return warnings


def fetcher_for(ctx: AppContext, *, public_hosts: bool = False) -> SafeFetcher:
    """The fetcher for caller-given URLs: FETCH_ALLOWED_HOSTS (and the service's own storage), or with
    `public_hosts` any host, as long as every address it resolves to is public."""
    settings = ctx.settings
    policy = FetchPolicy.build(
        allowed_hosts=None if public_hosts else settings.fetch_allowed_hosts,
        dev_http_hosts=settings.fetch_dev_http_hosts,
        own_storage_url=ctx.images.account_url,
        max_bytes=settings.reference_max_bytes,
        timeout_seconds=settings.fetch_timeout_seconds,
    )
    return SafeFetcher(policy)


async def store_inputs(
    ctx: AppContext,
    tenant_id: str,
    job_id: str,
    created_at: datetime,
    request: GenerationRequest,
    policy: SubmitPolicy = NATIVE_POLICY,
) -> StoredInputs:
    """Check the request's reference images and mask and store them; ApiError(400) on the first problem."""
    if not request.reference_images:
        return StoredInputs()
    fetcher = fetcher_for(ctx, public_hosts=policy.fetch_public_hosts)
    loaded = [
        await _load(ctx, fetcher, tenant_id, item, f"referenceImages[{index}]")
        for index, item in enumerate(request.reference_images)
    ]
    mask = await _load(ctx, fetcher, tenant_id, request.mask, "mask") if request.mask else None
    total = sum(len(item.data) for item in loaded) + (len(mask.data) if mask else 0)
    if total > ctx.settings.reference_total_max_bytes:
        raise invalid_field(
            "referenceImages",
            f"The reference images and mask total {total} bytes; at most "
            f"{ctx.settings.reference_total_max_bytes} are accepted.",
        )
    if mask is not None:
        _check_mask(mask.image, loaded[0].image)
    stored = StoredInputs()
    container = ctx.settings.inputs_container
    for index, item in enumerate(loaded):
        name = input_blob_name(
            tenant_id, created_at, job_id, f"ref-{index}.{EXTENSION_BY_MIME[item.image.mime_type]}"
        )
        await _upload(ctx, container, name, item, job_id, tenant_id)
        stored.reference_blobs.append(name)
    if mask is not None:
        stored.mask_blob = input_blob_name(tenant_id, created_at, job_id, "mask.png")
        await _upload(ctx, container, stored.mask_blob, mask, job_id, tenant_id)
    return stored


def _check_mask(mask: SniffedImage, first_reference: SniffedImage) -> None:
    if mask.mime_type != MIME_PNG:
        raise invalid_field("mask", "The mask must be a PNG.")
    if not mask.has_alpha:
        raise invalid_field("mask", "The mask must be a PNG with an alpha channel (transparent = editable).")
    if (mask.width, mask.height) != (first_reference.width, first_reference.height):
        raise invalid_field(
            "mask",
            f"The mask is {mask.width}x{mask.height}; it must have the first reference image's dimensions "
            f"({first_reference.width}x{first_reference.height}).",
        )


async def _upload(
    ctx: AppContext, container: str, name: str, item: _Loaded, job_id: str, tenant: str
) -> None:
    await ctx.images.upload(
        container,
        name,
        item.data,
        content_type=item.image.mime_type,
        metadata={"jobId": job_id, "tenantId": tenant},
    )


async def _load(
    ctx: AppContext, fetcher: SafeFetcher, tenant_id: str, item: ImageInput, where: str
) -> _Loaded:
    limit = ctx.settings.reference_max_bytes
    if item.b64 is not None:
        data = _decode_base64(item.b64, f"{where}.b64", limit)
    elif item.url is not None:
        data = await _url_image(ctx, fetcher, item.url, f"{where}.url")
    else:
        data = await _earlier_output(ctx, tenant_id, str(item.output_id), f"{where}.outputId")
    if len(data) > limit:
        raise invalid_field(where, f"The image is {len(data)} bytes; at most {limit} are accepted.")
    try:
        image = sniff_image(data)
    except NotAnImageError as exc:
        raise invalid_field(where, f"Not a usable PNG, JPEG or WebP image: {exc}.") from exc
    if item.mime_type is not None and item.mime_type != image.mime_type:
        raise invalid_field(
            f"{where}.mimeType", f"mimeType says {item.mime_type} but the bytes are {image.mime_type}."
        )
    return _Loaded(data=data, image=image)


async def _url_image(ctx: AppContext, fetcher: SafeFetcher, url: str, where: str) -> bytes:
    """The bytes behind a URL: one of this service's permanent image links is read from storage directly
    (the link is a capability, as a SAS URL is); any other URL goes through the SSRF-safe fetcher."""
    target = target_of_url(ctx.settings, url)
    if target is None:
        try:
            return (await fetcher.fetch_image(url)).data
        except FetchRefused as exc:
            raise invalid_field(where, f"The URL was refused: {exc}") from exc
    try:
        linked = await linked_image(ctx, target.tenant_id, target.image_id)
    except ApiError as exc:
        raise invalid_field(where, f"The image link names no stored image ({exc.message})") from exc
    data = await ctx.images.download(linked.image.container, linked.image.blob_name)
    if data is None:
        raise invalid_field(where, "The linked image is no longer stored.")
    return data


def _decode_base64(value: str, where: str, limit: int) -> bytes:
    match = _DATA_URL.match(value)
    payload = value[match.end() :] if match else value
    payload = "".join(payload.split())
    if len(payload) * 3 // 4 > limit + 3:
        raise invalid_field(where, f"The image is larger than {limit} bytes.")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid_field(where, "Not valid base64.") from exc


async def _earlier_output(ctx: AppContext, tenant_id: str, output_id: str, where: str) -> bytes:
    """The bytes of `{jobId}` (its first image) or `{jobId}-{n}`, looked up within the caller's tenant."""
    value = output_id.lower()
    parts = (value, 0) if is_job_id(value) else split_image_id(value)
    if parts is None:
        raise invalid_field(where, "An output id is `{jobId}` or `{jobId}-{n}`.")
    job_id, index = parts
    job = await ctx.jobs.get(tenant_id, job_id)
    output = next((image for image in job.outputs if image.index == index), None) if job else None
    if output is None:
        raise invalid_field(where, f"No output {output_id!r} was found.")
    data = await ctx.images.download(output.container, output.blob_name)
    if data is None:
        raise invalid_field(where, f"The image of output {output_id!r} is no longer stored.")
    return data
