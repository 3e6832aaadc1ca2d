"""Presets over HTTP: CRUD, submits that render a template, variables and file requirements."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from azure.cosmos import ContainerProxy
from PIL import Image

from tests.integration.conftest import Simulator, unique_prompt, wait_for_terminal

pytestmark = pytest.mark.integration

PRODUCT_SHOT = {
    "name": "Product shot",
    "promptTemplate": "Studio photo of {{product}} on a {{background}} background",
    "requirements": [
        {"key": "product", "type": "text", "label": "Product name", "maxLength": 60},
        {"key": "background", "type": "enum", "options": ["white", "black", "gradient"]},
    ],
    "defaultProvider": "azure-openai",
    "defaultModel": "gpt-image-1",
    "defaultAspectRatio": "3:2",
}


def _create(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/v1/presets", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _png(color: tuple[int, int, int] = (0, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_preset_crud(api: httpx.Client, stack: Any) -> None:
    created = api.post("/v1/presets", json=PRODUCT_SHOT)

    assert created.status_code == 201
    preset = created.json()
    assert created.headers["Location"] == f"{stack.endpoints.api_url}/v1/presets/{preset['id']}"
    assert preset["requirements"][1]["options"] == ["white", "black", "gradient"]
    assert api.get(f"/v1/presets/{preset['id']}").json() == preset
    first = api.get("/v1/presets", params={"limit": 1}).json()
    assert first["items"][0]["id"] == preset["id"]  # newest first

    replaced = api.put(f"/v1/presets/{preset['id']}", json={**PRODUCT_SHOT, "name": "Renamed"})

    assert replaced.status_code == 200
    assert replaced.json()["name"] == "Renamed"
    assert replaced.json()["createdAt"] == preset["createdAt"]
    assert api.get(f"/v1/presets/{preset['id']}").json()["name"] == "Renamed"
    assert api.delete(f"/v1/presets/{preset['id']}").status_code == 204
    assert api.get(f"/v1/presets/{preset['id']}").status_code == 404
    assert api.delete(f"/v1/presets/{preset['id']}").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"promptTemplate": "{{product}} by {{brand}}"}, "body"),
        ({"defaultModel": "gpt-9"}, "defaultModel"),
        ({"defaultProvider": "midjourney"}, "defaultProvider"),
        ({"name": ""}, "name"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_presets_are_400(api: httpx.Client, change: dict[str, Any], field: str) -> None:
    response = api.post("/v1/presets", json={**PRODUCT_SHOT, **change})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert any(item["field"] == field for item in response.json()["error"]["details"])


def test_another_tenants_preset_is_invisible(
    api: httpx.Client, cosmos_containers: Callable[[str], ContainerProxy]
) -> None:
    preset_id = f"preset_{uuid.uuid4().hex}"
    stored = {
        "id": preset_id,
        "tenantId": "other-tenant",
        "docType": "preset",
        "name": "Theirs",
        "promptTemplate": "a cat",
        "requirements": [],
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
    }
    cosmos_containers("presets").create_item(stored)

    assert api.get(f"/v1/presets/{preset_id}").status_code == 404
    assert api.put(f"/v1/presets/{preset_id}", json=PRODUCT_SHOT).status_code == 404
    assert api.delete(f"/v1/presets/{preset_id}").status_code == 404
    submitted = api.post("/v1/images/generations", json={"presetId": preset_id})
    assert submitted.status_code == 404
    assert cosmos_containers("presets").read_item(preset_id, partition_key="other-tenant")["name"] == "Theirs"


def test_a_submit_with_a_preset_renders_the_template_and_takes_its_defaults(
    api: httpx.Client, simulator: Simulator
) -> None:
    preset = _create(api, PRODUCT_SHOT)
    product = unique_prompt("trail shoe")

    response = api.post(
        "/v1/images/generations",
        json={"presetId": preset["id"], "variables": {"product": product, "background": "black"}},
    )

    assert response.status_code == 202, response.text
    done = wait_for_terminal(api, response.json()["id"])
    rendered = f"Studio photo of {product} on a black background"
    assert done["status"] == "succeeded", done
    assert done["prompt"] == rendered
    assert (done["provider"], done["model"], done["aspectRatio"]) == ("azure-openai", "gpt-image-1", "3:2")
    assert done["presetId"] == preset["id"]
    [sent] = simulator.requests_for(rendered)
    assert sent["body"]["size"] == "1536x1024"
    listed = api.get("/v1/images/generations", params={"presetId": preset["id"]}).json()["items"]
    assert [job["id"] for job in listed] == [done["id"]]
    library = api.get("/v1/images", params={"presetId": preset["id"]}).json()["items"]
    assert [image["presetName"] for image in library] == ["Product shot"]


def test_the_request_overrides_the_presets_defaults_and_adds_to_its_prompt(api: httpx.Client) -> None:
    preset = _create(api, PRODUCT_SHOT)
    extra = unique_prompt("with soft shadows")

    response = api.post(
        "/v1/images/generations",
        json={
            "presetId": preset["id"],
            "variables": {"product": "a mug", "background": "white"},
            "prompt": extra,
            "provider": "gemini",
            "aspectRatio": "1:1",
        },
    )

    done = wait_for_terminal(api, response.json()["id"])
    assert done["prompt"] == f"Studio photo of a mug on a white background\n\n{extra}"
    assert (done["provider"], done["model"], done["aspectRatio"]) == (
        "gemini",
        "gemini-2.5-flash-image",
        "1:1",
    )


@pytest.mark.parametrize(
    ("variables", "field", "message"),
    [
        ({"background": "white"}, "variables.product", "required"),
        ({"product": "a mug", "background": "purple"}, "variables.background", "must be one of"),
        ({"product": "a mug", "background": "white", "colour": "red"}, "variables.colour", "not a variable"),
        ({"product": "x" * 61, "background": "white"}, "variables.product", "at most 60"),
    ],
)
def test_a_missing_or_invalid_variable_is_400_naming_it(
    api: httpx.Client,
    cosmos_containers: Callable[[str], ContainerProxy],
    variables: dict[str, str],
    field: str,
    message: str,
) -> None:
    preset = _create(api, PRODUCT_SHOT)

    response = api.post("/v1/images/generations", json={"presetId": preset["id"], "variables": variables})

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    [detail] = [d for d in error["details"] if d["field"] == field]
    assert message in detail["message"]
    query = "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = 'dev' AND c.presetId = @p"
    params = [{"name": "@p", "value": preset["id"]}]
    assert list(cosmos_containers("jobs").query_items(query, parameters=params, partition_key="dev")) == [0]


def test_variables_need_a_preset(api: httpx.Client) -> None:
    response = api.post("/v1/images/generations", json={"prompt": "x", "variables": {"a": "b"}})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "variables"


# --- multipart ------------------------------------------------------------------------------------------

WITH_FILES: dict[str, Any] = {
    "name": "Restyle",
    "promptTemplate": "Redraw in the style of {{style}}",
    "requirements": [
        {"key": "style", "type": "text"},
        {"key": "photo", "type": "file"},
        {"key": "extras", "type": "file", "multiple": True, "required": False},
    ],
}


def test_a_multipart_submit_without_a_required_file_is_400_naming_it(api: httpx.Client) -> None:
    preset = _create(api, WITH_FILES)

    response = api.post(
        "/v1/images/generations",
        data={"presetId": preset["id"], "variables": json.dumps({"style": "ukiyo-e"})},
        files={"extras_0": ("a.png", _png(), "image/png")},
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"] == [
        {"field": "photo", "message": "a file is required by the preset"}
    ]


@pytest.mark.parametrize(
    ("files", "field", "message"),
    [
        ({"photo": ("a.txt", b"not an image", "image/png")}, "photo", "not a PNG, JPEG or WebP image"),
        (
            {"photo": ("a.png", _png(), "image/png"), "photo_0": ("b.png", _png(), "image/png")},
            "photo",
            "one file",
        ),
        (
            {"photo": ("a.png", _png(), "image/png"), "logo": ("b.png", _png(), "image/png")},
            "logo",
            "not a file",
        ),
    ],
)
def test_invalid_multipart_files_are_400_naming_the_field(
    api: httpx.Client, files: dict[str, Any], field: str, message: str
) -> None:
    preset = _create(api, WITH_FILES)

    response = api.post(
        "/v1/images/generations",
        data={"presetId": preset["id"], "variables": json.dumps({"style": "ukiyo-e"})},
        files=files,
    )

    assert response.status_code == 400, response.text
    assert any(d["field"] == field and message in d["message"] for d in response.json()["error"]["details"])


def test_multipart_form_fields_are_read_like_a_json_body(api: httpx.Client) -> None:
    preset = _create(
        api,
        {**WITH_FILES, "requirements": [{"key": "style", "type": "text"}, {**WITH_FILES["requirements"][2]}]},
    )
    style = unique_prompt("art deco")

    # Form fields only: `(None, value)` parts make a multipart body without a file.
    fields = {
        "presetId": preset["id"],
        "variables": json.dumps({"style": style}),
        "aspectRatio": "16:9",
        "isPublic": "true",
    }
    response = api.post(
        "/v1/images/generations", files={name: (None, value) for name, value in fields.items()}
    )

    assert response.request.headers["Content-Type"].startswith("multipart/form-data")
    assert response.status_code == 202, response.text
    done = wait_for_terminal(api, response.json()["id"])
    assert done["prompt"] == f"Redraw in the style of {style}"
    assert done["aspectRatio"] == "16:9" and done["isPublic"] is True


def test_multipart_files_become_the_jobs_reference_images(api: httpx.Client, simulator: Simulator) -> None:
    preset = _create(api, WITH_FILES)
    style = unique_prompt("ukiyo-e")
    photo, extra = _png(), _png((200, 40, 0))

    response = api.post(
        "/v1/images/generations",
        data={"presetId": preset["id"], "variables": json.dumps({"style": style})},
        files={"photo": ("a.png", photo, "image/png"), "extras_0": ("b.png", extra, "image/png")},
    )

    assert response.status_code == 202, response.text
    done = wait_for_terminal(api, response.json()["id"])
    assert done["status"] == "succeeded", done
    assert done["mode"] == "edit"
    [sent] = simulator.requests_for(f"Redraw in the style of {style}")
    # Both files reach the provider, in the order of the preset's requirements, byte for byte.
    assert [reference["sha256"] for reference in sent["references"]] == [
        hashlib.sha256(photo).hexdigest(),
        hashlib.sha256(extra).hexdigest(),
    ]


def test_bad_variables_json_in_a_form_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/v1/images/generations",
        data={"presetId": "whatever", "variables": "{not json"},
        files={"photo": ("a.png", _png(), "image/png")},
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "variables"
