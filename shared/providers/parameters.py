"""What each model family accepts (seed 003's quirks table, extended) and how a job's knobs map onto it.

Imported on the HTTP path (no SDK): `check_request` refuses what the chosen family cannot do, before anything
is stored; the `*_for` functions map a stored spec onto the wire, tolerantly, because a fallback may run a
job on another family than the one it was checked against.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import FieldProblem
from shared.models.jobs import ASPECT_RATIOS, MAX_REFERENCE_IMAGES, GenerationRequest, GenerationSpec
from shared.providers.catalog import ModelFamily

AZURE_SIZES: dict[ModelFamily, tuple[str, ...]] = {
    ModelFamily.GPT_IMAGE: ("1024x1024", "1536x1024", "1024x1536", "auto"),
    ModelFamily.DALL_E_3: ("1024x1024", "1792x1024", "1024x1792"),
}
QUALITIES: dict[ModelFamily, tuple[str, ...]] = {
    ModelFamily.GPT_IMAGE: ("low", "medium", "high", "auto"),
    ModelFamily.DALL_E_3: ("standard", "hd"),
}
DALL_E_STYLES = ("vivid", "natural")
# The aspect ratios Gemini's image_config documents; a pixel size is mapped to the nearest of them.
GEMINI_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")

_GEMINI_IMAGE_SIZE = {"low": "1K", "standard": None, "high": "2K", "4k": "4K"}
_GPT_IMAGE_QUALITY = {"low": "low", "standard": "medium", "high": "high", "4k": "high"}
_DALL_E_QUALITY = {"low": "standard", "standard": "standard", "high": "hd", "4k": "hd"}


def check_request(
    family: ModelFamily, request: GenerationRequest, *, max_images: int
) -> tuple[list[FieldProblem], list[str]]:
    """Problems (each a 400) and warnings (stored on the job) for this request on this model family."""
    problems: list[FieldProblem] = []
    warnings: list[str] = []
    if request.n > max_images:
        problems.append(FieldProblem("n", f"must be between 1 and {max_images}."))
    if family is ModelFamily.GEMINI:
        if request.size is not None and not _is_gemini_size(request.size):
            problems.append(
                FieldProblem("size", "Gemini accepts an aspect ratio (e.g. 16:9) or a WxH pixel size.")
            )
        if request.quality is not None:
            warnings.append("quality is ignored by Gemini (it uses the model's defaults).")
        if request.style is not None:
            warnings.append("style is ignored by Gemini.")
        if request.mask is not None:
            problems.append(FieldProblem("mask", "Masks are supported by azure-openai (gpt-image) only."))
        return problems, warnings
    allowed_sizes = AZURE_SIZES[family]
    if request.size is not None and request.size not in allowed_sizes:
        problems.append(FieldProblem("size", f"{family} accepts size {', '.join(allowed_sizes)}."))
    if request.quality is not None and request.quality not in QUALITIES[family]:
        problems.append(FieldProblem("quality", f"{family} accepts quality {', '.join(QUALITIES[family])}."))
    if family is ModelFamily.DALL_E_3:
        if request.style is not None and request.style not in DALL_E_STYLES:
            problems.append(FieldProblem("style", "dall-e-3 accepts style vivid or natural."))
        if request.reference_images:
            problems.append(
                FieldProblem("referenceImages", "dall-e-3 cannot edit images; use a gpt-image deployment.")
            )
        if request.mask is not None:
            problems.append(FieldProblem("mask", "dall-e-3 does not support masks."))
    elif request.style is not None:
        warnings.append("style is ignored by gpt-image models (dall-e-3 only).")
    if request.negative_prompt:
        warnings.append("negativePrompt is ignored by Azure OpenAI.")
    return problems, warnings


def _is_gemini_size(size: str) -> bool:
    return size in ASPECT_RATIOS or _pixel_size(size) is not None


def _pixel_size(size: str) -> tuple[int, int] | None:
    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) == 0 or int(height) == 0:
        return None
    return int(width), int(height)


def _ratio(aspect_ratio: str) -> float:
    width, _, height = aspect_ratio.partition(":")
    return float(width) / float(height)


def nearest_aspect_ratio(width: int, height: int, choices: tuple[str, ...] = GEMINI_ASPECT_RATIOS) -> str:
    wanted = width / height
    return min(choices, key=lambda choice: abs(_ratio(choice) - wanted))


def nearest_azure_size(family: ModelFamily, aspect_ratio: str) -> str:
    """The supported size whose shape is closest to the asked aspect ratio."""
    wanted = _ratio(aspect_ratio)
    sizes = [size for size in AZURE_SIZES[family] if size != "auto"]
    return min(sizes, key=lambda size: abs(_ratio(size.replace("x", ":")) - wanted))


def gemini_aspect_ratio(spec: GenerationSpec) -> str:
    """`size` (a ratio or a pixel size) overrides `aspectRatio`, as seed 003 lets Gemini callers say it."""
    if spec.size:
        if spec.size in ASPECT_RATIOS:
            return spec.size
        pixels = _pixel_size(spec.size)
        if pixels is not None:
            return nearest_aspect_ratio(*pixels)
    return spec.aspect_ratio


def gemini_image_size(spec: GenerationSpec) -> str | None:
    """`resolution` as Gemini's image_config.image_size; None keeps the model's default (1K)."""
    return _GEMINI_IMAGE_SIZE.get(spec.resolution)


def azure_size_for(family: ModelFamily, spec: GenerationSpec) -> str:
    if spec.size in AZURE_SIZES[family]:
        return str(spec.size)
    return nearest_azure_size(family, spec.aspect_ratio)


def azure_quality_for(family: ModelFamily, spec: GenerationSpec) -> str:
    """An explicit `quality` wins; otherwise `resolution` decides."""
    if spec.quality in QUALITIES[family]:
        return str(spec.quality)
    table = _GPT_IMAGE_QUALITY if family is ModelFamily.GPT_IMAGE else _DALL_E_QUALITY
    return table.get(spec.resolution, table["standard"])


def azure_style_for(family: ModelFamily, spec: GenerationSpec) -> str | None:
    if family is ModelFamily.DALL_E_3 and spec.style in DALL_E_STYLES:
        return spec.style
    return None


@dataclass(frozen=True)
class FamilyCapabilities:
    """What a model family can take, as `GET /api/v1/models` tells callers (check_request enforces it)."""

    max_reference_images: int
    mask: bool
    negative_prompt: bool
    sizes: tuple[str, ...]
    qualities: tuple[str, ...]
    styles: tuple[str, ...]


CAPABILITIES: dict[ModelFamily, FamilyCapabilities] = {
    ModelFamily.GEMINI: FamilyCapabilities(
        max_reference_images=MAX_REFERENCE_IMAGES, mask=False, negative_prompt=True,
        sizes=(), qualities=(), styles=(),
    ),
    ModelFamily.GPT_IMAGE: FamilyCapabilities(
        max_reference_images=MAX_REFERENCE_IMAGES, mask=True, negative_prompt=False,
        sizes=AZURE_SIZES[ModelFamily.GPT_IMAGE], qualities=QUALITIES[ModelFamily.GPT_IMAGE], styles=(),
    ),
    ModelFamily.DALL_E_3: FamilyCapabilities(
        max_reference_images=0, mask=False, negative_prompt=False,
        sizes=AZURE_SIZES[ModelFamily.DALL_E_3], qualities=QUALITIES[ModelFamily.DALL_E_3],
        styles=DALL_E_STYLES,
    ),
}  # fmt: skip
