"""Format, dimensions and PNG transparency read from an image's header bytes, without Pillow.

The submit path must not import Pillow (it costs the HTTP function's cold start), yet reference images and
masks are checked there: the magic bytes say what the file is, and the first header says its size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIME_PNG = "image/png"
MIME_JPEG = "image/jpeg"
MIME_WEBP = "image/webp"

# JPEG start-of-frame markers (all but DHT C4, JPG C8 and DAC CC carry the frame size).
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class NotAnImageError(ValueError):
    """The bytes are not a PNG, JPEG or WebP image whose header can be read."""


@dataclass(frozen=True)
class SniffedImage:
    mime_type: str
    width: int
    height: int
    has_alpha: bool


def sniff_mime(data: bytes) -> str | None:
    """The MIME type the magic bytes announce, or None for anything but PNG, JPEG and WebP."""
    if data.startswith(PNG_SIGNATURE):
        return MIME_PNG
    if data.startswith(b"\xff\xd8\xff"):
        return MIME_JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return MIME_WEBP
    return None


def sniff_image(data: bytes) -> SniffedImage:
    mime = sniff_mime(data)
    try:
        if mime == MIME_PNG:
            return _png(data)
        if mime == MIME_JPEG:
            return _jpeg(data)
        if mime == MIME_WEBP:
            return _webp(data)
    except (struct.error, IndexError) as exc:
        raise NotAnImageError("the image header is truncated") from exc
    raise NotAnImageError("only PNG, JPEG and WebP images are accepted")


def _png(data: bytes) -> SniffedImage:
    if data[12:16] != b"IHDR":
        raise NotAnImageError("the PNG has no IHDR header")
    width, height, _depth, color_type = struct.unpack(">IIBB", data[16:26])
    # Colour types 4 and 6 carry an alpha channel; other types are transparent only through tRNS.
    has_alpha = color_type in (4, 6) or _png_has_chunk(data, b"tRNS")
    return _checked(MIME_PNG, width, height, has_alpha)


def _png_has_chunk(data: bytes, wanted: bytes) -> bool:
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == wanted:
            return True
        if kind in (b"IDAT", b"IEND"):
            return False  # tRNS must come before the image data
        offset += 12 + length
    return False


def _jpeg(data: bytes) -> SniffedImage:
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise NotAnImageError("the JPEG segment structure is broken")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            offset += 2
            continue
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return _checked(MIME_JPEG, width, height, False)
        if marker == 0xDA:
            break
        offset += 2 + length
    raise NotAnImageError("the JPEG has no frame header")


def _webp(data: bytes) -> SniffedImage:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise NotAnImageError("the WebP frame header is broken")
        width, height = struct.unpack("<HH", data[26:30])
        return _checked(MIME_WEBP, width & 0x3FFF, height & 0x3FFF, False)
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise NotAnImageError("the lossless WebP header is broken")
        (bits,) = struct.unpack("<I", data[21:25])
        width = (bits & 0x3FFF) + 1
        height = ((bits >> 14) & 0x3FFF) + 1
        return _checked(MIME_WEBP, width, height, bool((bits >> 28) & 1))
    if chunk == b"VP8X":
        flags = data[20]
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return _checked(MIME_WEBP, width, height, bool(flags & 0x10))
    raise NotAnImageError("unknown WebP chunk")


def _checked(mime: str, width: int, height: int, has_alpha: bool) -> SniffedImage:
    if width <= 0 or height <= 0:
        raise NotAnImageError("the image has no pixels")
    return SniffedImage(mime_type=mime, width=width, height=height, has_alpha=has_alpha)
