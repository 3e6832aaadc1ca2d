"""Files of a `multipart/form-data` submit: grouped by the preset's file requirements.

A requirement `key` takes one file in the form field `key`; with `multiple`, several in `key_0`,
`key_1`, ... (and `key` itself). The files become reference images of the job.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from shared.errors import invalid_field
from shared.models.jobs import MAX_REFERENCE_IMAGES, GenerationRequest, ImageInput

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_INDEXED = re.compile(r"(?P<key>.+)_(?P<index>\d{1,2})")


@dataclass(frozen=True)
class Upload:
    field: str
    filename: str
    mime_type: str
    data: bytes


def sniff_image_type(data: bytes) -> str | None:
    """The image type from the magic numbers (no image library on the HTTP path)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def make_upload(field: str, filename: str, data: bytes) -> Upload:
    """A checked upload: an image of a supported type, within the size limit; else 400 naming the field."""
    problem = None
    mime_type = sniff_image_type(data)
    if not data:
        problem = "the file is empty"
    elif len(data) > MAX_UPLOAD_BYTES:
        problem = f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
    elif mime_type is None:
        problem = "not a PNG, JPEG or WebP image"
    if problem is not None:
        raise invalid_field(field, problem)
    assert mime_type is not None
    return Upload(field=field, filename=filename, mime_type=mime_type, data=data)


def group_uploads(uploads: list[Upload], file_keys: set[str]) -> tuple[dict[str, list[Upload]], list[str]]:
    """Uploads per requirement key (`key`, then `key_0`, `key_1`, ... in index order), and the form
    fields that name no file requirement."""
    grouped: dict[str, list[tuple[int, Upload]]] = {}
    unknown: list[str] = []
    for upload in uploads:
        if upload.field in file_keys:
            grouped.setdefault(upload.field, []).append((-1, upload))
            continue
        match = _INDEXED.fullmatch(upload.field)
        if match and match.group("key") in file_keys:
            grouped.setdefault(match.group("key"), []).append((int(match.group("index")), upload))
            continue
        unknown.append(upload.field)
    ordered = {key: [u for _, u in sorted(items, key=lambda pair: pair[0])] for key, items in grouped.items()}
    return ordered, unknown


def reference_images(uploads: list[Upload]) -> list[dict[str, Any]]:
    """The uploads as base64 reference images, in the shape of the request's `referenceImages` items."""
    return [{"b64": base64.b64encode(u.data).decode(), "mimeType": u.mime_type} for u in uploads]


def attach_reference_images(request: GenerationRequest, images: list[dict[str, Any]]) -> GenerationRequest:
    """The one place uploaded files join the request: as base64 reference images, after any the body
    names, within the same limit (they are then checked and stored like every reference image)."""
    if not images:
        return request
    combined = [*request.reference_images, *(ImageInput.model_validate(image) for image in images)]
    if len(combined) > MAX_REFERENCE_IMAGES:
        raise invalid_field(
            "referenceImages",
            f"at most {MAX_REFERENCE_IMAGES} images, files included",
            detail=f"at most {MAX_REFERENCE_IMAGES} images",
        )
    return request.model_copy(update={"reference_images": combined})
