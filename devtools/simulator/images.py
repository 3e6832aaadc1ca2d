"""Drawing images that visibly depend on the prompt (and on the reference image when editing)."""

from __future__ import annotations

import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont, ImageOps

# Gemini's documented pixel sizes per aspect ratio (1K); others are derived at about one megapixel.
GEMINI_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}


def size_for_aspect_ratio(aspect_ratio: str) -> tuple[int, int]:
    if aspect_ratio in GEMINI_SIZES:
        return GEMINI_SIZES[aspect_ratio]
    width_part, _, height_part = aspect_ratio.partition(":")
    ratio = float(width_part) / float(height_part)
    height = (1024 * 1024 / ratio) ** 0.5
    return _round16(height * ratio), _round16(height)


def _round16(value: float) -> int:
    return max(16, int(round(value / 16)) * 16)


def _colors(prompt: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(prompt.encode()).digest()
    return (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])


def render(
    prompt: str,
    width: int,
    height: int,
    *,
    image_format: str = "PNG",
    reference: bytes | None = None,
) -> bytes:
    """An image of `width` x `height`: a gradient keyed by the prompt, or the reference image tinted by it,
    with the prompt written across it."""
    top, bottom = _colors(prompt)
    if reference is not None:
        with Image.open(io.BytesIO(reference)) as source:
            base = ImageOps.fit(source.convert("RGB"), (width, height))
        tint = Image.new("RGB", (width, height), top)
        canvas = Image.blend(base, tint, 0.35)
    else:
        # A vertical gradient: one column blended, then widened by copying (a tenth of blending every pixel).
        gradient = Image.linear_gradient("L").resize((1, height))
        column = Image.composite(
            Image.new("RGB", (1, height), bottom), Image.new("RGB", (1, height), top), gradient
        )
        canvas = column.resize((width, height), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(canvas)
    font_size = max(12, min(width, height) // 18)
    font = ImageFont.load_default(size=font_size)
    lines = textwrap.wrap(prompt, width=max(10, width // max(8, font_size // 2 + 2)))[:8]
    draw.multiline_text(
        (width // 20, height // 20),
        "\n".join(lines),
        fill=(255, 255, 255),
        font=font,
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )
    out = io.BytesIO()
    if image_format.upper() in {"JPEG", "JPG"}:
        canvas.save(out, format="JPEG", quality=85)
    elif image_format.upper() == "WEBP":
        canvas.save(out, format="WEBP", quality=80)
    else:
        # The fastest compression: the simulator stands in for a remote provider, whose CPU is not ours.
        canvas.save(out, format="PNG", compress_level=1)
    return out.getvalue()
