"""Header sniffing (what the submit path uses instead of Pillow) and each family's parameter rules."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from shared.images.convert import convert_image, needs_conversion
from shared.images.inspect import inspect_image
from shared.images.sniff import NotAnImageError, sniff_image
from shared.models.jobs import GenerationRequest, GenerationSpec
from shared.providers.catalog import ModelFamily
from shared.providers.parameters import (
    azure_quality_for,
    azure_size_for,
    check_request,
    gemini_aspect_ratio,
    gemini_image_size,
)


def _encode(mode: str, size: tuple[int, int], fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt", "options", "mime", "alpha"),
    [
        ("RGB", "PNG", {}, "image/png", False),
        ("RGBA", "PNG", {}, "image/png", True),
        ("LA", "PNG", {}, "image/png", True),
        ("P", "PNG", {"transparency": 0}, "image/png", True),
        ("RGB", "JPEG", {}, "image/jpeg", False),
        ("RGB", "JPEG", {"progressive": True}, "image/jpeg", False),
        ("RGB", "WEBP", {}, "image/webp", False),
        ("RGB", "WEBP", {"lossless": True}, "image/webp", False),
        ("RGBA", "WEBP", {"lossless": True}, "image/webp", True),
        ("RGBA", "WEBP", {}, "image/webp", True),
    ],
)
def test_sniff_reads_what_pillow_reads(
    mode: str, fmt: str, options: dict[str, object], mime: str, alpha: bool
) -> None:
    data = _encode(mode, (123, 45), fmt, **options)

    image = sniff_image(data)

    assert (image.mime_type, image.width, image.height, image.has_alpha) == (mime, 123, 45, alpha)


@pytest.mark.parametrize("data", [b"", b"GIF89a....", b"%PDF-1.7", b"\x89PNG\r\n\x1a\n\0\0", b"\xff\xd8\xff"])
def test_sniff_refuses_what_is_not_a_readable_png_jpeg_or_webp(data: bytes) -> None:
    with pytest.raises(NotAnImageError):
        sniff_image(data)


def _request(**fields: object) -> GenerationRequest:
    return GenerationRequest.model_validate({"prompt": "p", **fields})


@pytest.mark.parametrize(
    ("family", "fields", "problem_fields"),
    [
        (ModelFamily.GPT_IMAGE, {"size": "1792x1024"}, ["size"]),
        (ModelFamily.GPT_IMAGE, {"quality": "hd"}, ["quality"]),
        (ModelFamily.DALL_E_3, {"quality": "low", "style": "bold"}, ["quality", "style"]),
        (ModelFamily.DALL_E_3, {"referenceImages": [{"b64": "AAAA"}]}, ["referenceImages"]),
        (ModelFamily.GEMINI, {"size": "huge"}, ["size"]),
        (ModelFamily.GEMINI, {"referenceImages": [{"b64": "AAAA"}], "mask": {"b64": "AAAA"}}, ["mask"]),
        (ModelFamily.GEMINI, {"n": 5}, ["n"]),
        (ModelFamily.GPT_IMAGE, {"size": "auto", "quality": "high", "n": 4}, []),
        (ModelFamily.GEMINI, {"size": "16:9"}, []),
        (ModelFamily.GEMINI, {"size": "1920x1080"}, []),
    ],
)
def test_check_request(family: ModelFamily, fields: dict[str, object], problem_fields: list[str]) -> None:
    problems, _ = check_request(family, _request(**fields), max_images=4)
    assert [problem.field for problem in problems] == problem_fields


def test_ignored_parameters_become_warnings() -> None:
    _, gemini = check_request(ModelFamily.GEMINI, _request(quality="high", style="vivid"), max_images=4)
    _, azure = check_request(ModelFamily.GPT_IMAGE, _request(negativePrompt="x", style="vivid"), max_images=4)
    assert len(gemini) == 2 and "quality" in gemini[0]
    assert any("negativePrompt" in w for w in azure) and any("style" in w for w in azure)


def _spec(**fields: object) -> GenerationSpec:
    return GenerationSpec.model_validate(
        {"prompt": "p", "provider": "x", "model": "m", "aspectRatio": "1:1", **fields}
    )


@pytest.mark.parametrize(
    ("resolution", "gemini", "gpt_image", "dall_e"),
    [("low", "1K", "low", "standard"), ("standard", None, "medium", "standard"), ("high", "2K", "high", "hd"),
     ("4k", "4K", "high", "hd")],
)  # fmt: skip
def test_resolution_mapping(resolution: str, gemini: str | None, gpt_image: str, dall_e: str) -> None:
    spec = _spec(resolution=resolution)
    assert gemini_image_size(spec) == gemini
    assert azure_quality_for(ModelFamily.GPT_IMAGE, spec) == gpt_image
    assert azure_quality_for(ModelFamily.DALL_E_3, spec) == dall_e


def test_explicit_quality_and_size_win_and_foreign_values_are_mapped() -> None:
    assert azure_quality_for(ModelFamily.GPT_IMAGE, _spec(quality="low", resolution="4k")) == "low"
    # A spec checked for another family (a fallback) maps rather than fails.
    assert azure_quality_for(ModelFamily.DALL_E_3, _spec(quality="low")) == "standard"
    assert azure_size_for(ModelFamily.DALL_E_3, _spec(size="1536x1024", aspectRatio="16:9")) == "1792x1024"
    assert gemini_aspect_ratio(_spec(size="1920x1080")) == "16:9"
    assert gemini_aspect_ratio(_spec(size="3:4", aspectRatio="1:1")) == "3:4"


@pytest.mark.parametrize(
    ("fmt", "mime"), [("jpeg", "image/jpeg"), ("webp", "image/webp"), ("png", "image/png")]
)
def test_convert_image_changes_the_format_only_when_asked(fmt: str, mime: str) -> None:
    png = _encode("RGBA", (20, 10), "PNG")

    converted = convert_image(png, fmt, 50)

    assert inspect_image(converted).mime_type == mime
    assert (inspect_image(converted).width, inspect_image(converted).height) == (20, 10)
    assert convert_image(png, None) is png
    assert needs_conversion(png, fmt) == (fmt != "png") and not needs_conversion(png, None)
    assert (convert_image(png, fmt) is png) == (fmt == "png"), "an image already in the format is kept"


def test_base64_references_are_decoded_raw_or_from_a_data_url_and_capped() -> None:
    from shared.errors import ApiError
    from shared.jobs.references import _decode_base64

    png = _encode("RGB", (4, 4), "PNG")
    encoded = base64.b64encode(png).decode()

    assert _decode_base64(encoded, "x", 1000) == png
    assert _decode_base64(f"data:image/png;base64,{encoded}", "x", 1000) == png
    assert _decode_base64(encoded[:40] + "\n" + encoded[40:], "x", 1000) == png  # line-wrapped base64
    with pytest.raises(ApiError, match="larger than 10 bytes"):
        _decode_base64(encoded, "x", 10)
    with pytest.raises(ApiError, match="Not valid base64"):
        _decode_base64("@@@@", "x", 1000)
