"""Presets without the stack: requirement rules, template rendering, upload grouping and sniffing."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from pydantic import ValidationError

from shared.errors import ApiError
from shared.models.presets import PresetInput, placeholders
from shared.presets.apply import render
from shared.presets.uploads import Upload, group_uploads, make_upload, reference_images, sniff_image_type


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(field: str) -> Upload:
    return Upload(field=field, filename=f"{field}.png", mime_type="image/png", data=b"x")


def test_placeholders_and_rendering() -> None:
    template = "A photo of {{ product }} on {{background}}, {{product}} centred"

    assert placeholders(template) == ["product", "background"]
    assert render(template, {"product": "a shoe", "background": "{{product}}"}) == (
        "A photo of a shoe on {{product}}, a shoe centred"
    )


@pytest.mark.parametrize(
    ("requirements", "message"),
    [
        ([], "undeclared variables: product"),
        ([{"key": "product", "type": "file"}], "file requirements become reference images"),
        ([{"key": "product", "type": "enum"}], "needs distinct options"),
        ([{"key": "product", "type": "text"}, {"key": "product", "type": "text"}], "distinct"),
        ([{"key": "product", "type": "text", "multiple": True}], "multiple is only for file"),
        ([{"key": "pro duct", "type": "text"}], "pattern"),
    ],
)
def test_invalid_presets_are_refused(requirements: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PresetInput.model_validate(
            {"name": "p", "promptTemplate": "{{product}}", "requirements": requirements}
        )


def test_uploads_group_by_requirement_in_index_order() -> None:
    uploads = [_upload("refs_1"), _upload("logo"), _upload("refs_0"), _upload("refs"), _upload("other_0")]

    grouped, unknown = group_uploads(uploads, {"logo", "refs"})

    assert [u.field for u in grouped["refs"]] == ["refs", "refs_0", "refs_1"]
    assert [u.field for u in grouped["logo"]] == ["logo"]
    assert unknown == ["other_0"]


def test_uploads_are_sniffed_and_become_base64_reference_images() -> None:
    png = _png()

    upload = make_upload("logo", "logo.bin", png)

    assert upload.mime_type == "image/png"
    assert sniff_image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    [image] = reference_images([upload])
    assert image["mimeType"] == "image/png"
    assert base64.b64decode(image["b64"]) == png


@pytest.mark.parametrize("data", [b"", b"GIF89a....", b"plain text"])
def test_an_upload_that_is_not_an_image_is_a_400_naming_the_field(data: bytes) -> None:
    with pytest.raises(ApiError) as raised:
        make_upload("logo", "logo.gif", data)

    assert raised.value.status == 400
    assert raised.value.details[0]["field"] == "logo"
