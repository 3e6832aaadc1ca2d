"""Blob paths of generated images, and the thumbnails made of them."""

from __future__ import annotations

import io

from PIL import Image

from shared.images.thumbnails import parse_blob_subject, parse_image_blob, render_thumbnail


def test_subject_names_container_and_blob() -> None:
    subject = "/blobServices/default/containers/generated/blobs/images/dev/2026-11-22/abc-0.png"

    assert parse_blob_subject(subject) == ("generated", "images/dev/2026-11-22/abc-0.png")
    assert parse_blob_subject("/blobServices/default/containers/generated") is None


def test_image_path_maps_to_tenant_job_and_output() -> None:
    job_id = "d318590d-4224-4390-9ae7-eabfa6587b3d"
    ref = parse_image_blob("generated", f"images/acme/2026-11-22/{job_id}-2.jpg")

    assert ref is not None
    assert (ref.tenant_id, ref.job_id, ref.index) == ("acme", job_id, 2)
    assert ref.thumbnail_blob_name == f"images/acme/2026-11-22/{job_id}-2.webp"


def test_other_paths_are_not_images() -> None:
    for name in ("inputs/acme/x.png", "images/acme/2026-11-22/nodash.png", "images/acme/today/j-0.png"):
        assert parse_image_blob("generated", name) is None


def test_thumbnail_is_webp_within_bounds_keeping_aspect_ratio() -> None:
    source = io.BytesIO()
    Image.new("RGB", (1344, 768), (200, 30, 30)).save(source, format="PNG")

    thumbnail = render_thumbnail(source.getvalue(), 256)

    with Image.open(io.BytesIO(thumbnail)) as image:
        assert image.format == "WEBP"
        assert image.size == (256, 146)
