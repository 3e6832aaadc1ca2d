"""What an image really is, read from its bytes (never from what a provider claims)."""

from __future__ import annotations

import io
from dataclasses import dataclass

_MIME_BY_PIL_FORMAT = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSION_BY_MIME = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


class UnsupportedImageError(ValueError):
    pass


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    width: int
    height: int
    bytes: int

    @property
    def extension(self) -> str:
        return EXTENSION_BY_MIME[self.mime_type]


def inspect_image(data: bytes) -> ImageInfo:
    """Format and dimensions of PNG, JPEG or WebP bytes; anything else is refused."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            mime = _MIME_BY_PIL_FORMAT.get(image.format or "")
            width, height = image.size
    except UnidentifiedImageError as exc:
        raise UnsupportedImageError("the bytes are not an image") from exc
    if mime is None:
        raise UnsupportedImageError("only PNG, JPEG and WebP images are supported")
    return ImageInfo(mime_type=mime, width=width, height=height, bytes=len(data))
