"""Converting a provider's image to the format the caller asked for (Pillow; worker side only)."""

from __future__ import annotations

import io

from shared.images.inspect import inspect_image

_MIME_BY_FORMAT = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_DEFAULT_QUALITY = {"jpeg": 90, "webp": 85}


def needs_conversion(data: bytes, output_format: str | None) -> bool:
    """Whether `convert_image` would re-encode `data` (a header read: cheap, unlike the conversion)."""
    return output_format is not None and inspect_image(data).mime_type != _MIME_BY_FORMAT[output_format]


def convert_image(data: bytes, output_format: str | None, compression: int | None = None) -> bytes:
    """`data` in `output_format` (png, jpeg, webp); unchanged when it already is, or when none is asked.
    `compression` is the jpeg/webp quality, 0-100, as gpt-image's output_compression."""
    if output_format is None or not needs_conversion(data, output_format):
        return data
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        out = io.BytesIO()
        if output_format == "png":
            image.save(out, format="PNG")
        else:
            # JPEG has no alpha channel; WebP keeps it.
            converted = image.convert("RGB") if output_format == "jpeg" else image.convert("RGBA")
            quality = compression if compression is not None else _DEFAULT_QUALITY[output_format]
            converted.save(out, format=output_format.upper(), quality=max(1, quality))
        return out.getvalue()
