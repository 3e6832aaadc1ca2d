from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from shared.images.inspect import UnsupportedImageError, inspect_image
from shared.images.store import image_blob_name


@pytest.mark.parametrize(
    ("fmt", "mime", "ext"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
def test_inspect_reads_format_and_size_from_the_bytes(fmt: str, mime: str, ext: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(buffer, format=fmt)
    data = buffer.getvalue()

    info = inspect_image(data)

    assert (info.mime_type, info.width, info.height, info.bytes, info.extension) == (
        mime,
        64,
        48,
        len(data),
        ext,
    )


@pytest.mark.parametrize("data", [b"", b"not an image", b"GIF89a" + b"\0" * 20])
def test_inspect_refuses_what_is_not_png_jpeg_or_webp(data: bytes) -> None:
    with pytest.raises(UnsupportedImageError):
        inspect_image(data)


def test_gif_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="GIF")
    with pytest.raises(UnsupportedImageError, match="only PNG, JPEG and WebP"):
        inspect_image(buffer.getvalue())


def test_blob_name_layout() -> None:
    created = datetime(2026, 3, 4, 23, 59, tzinfo=UTC)

    assert image_blob_name("t1", created, "job-1", 0, "png") == "images/t1/2026-03-04/job-1-0.png"
