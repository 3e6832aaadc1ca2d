"""Seed 003: `POST /api/v1/agents/images` driven over HTTP as its document's clients would call it."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from azure.cosmos import ContainerProxy
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, ContentSettings, generate_blob_sas
from PIL import Image

from devtools.oidc import Issuer
from devtools.stack.stack import ROOT, LocalStack
from tests.integration.conftest import Simulator, api_client, unique_prompt, unique_tenant
from tests.integration.contract import Contract
from tests.integration.doc_examples import run_marked_example

pytestmark = pytest.mark.integration

ROUTE = "/v1/agents/images"
GEMINI = "gemini-3.1-flash-image-preview"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _png(size: tuple[int, int], mode: str = "RGB", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 0) if mode == "RGBA" else (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def org() -> str:
    return unique_tenant("org")


@pytest.fixture(scope="module")
def client(stack: LocalStack, contract: Contract, oidc_issuer: Issuer, org: str) -> Iterator[httpx.Client]:
    """A caller with a JWT carrying `write:image-gen`, as the seed's gateway forwards it; long timeout
    because the route is synchronous."""
    token = oidc_issuer.token(tid=org, scp="write:image-gen", expires_in=3600)
    with api_client(stack, contract, {"Authorization": f"Bearer {token}"}) as http:
        http.timeout = httpx.Timeout(90)
        yield http


def _post(client: httpx.Client, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return client.post(ROUTE, json=body, **kwargs)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "metadata"}
    assert body["metadata"]["success"] is True
    assert abs(body["metadata"]["timestamp"] - time.time()) < 120
    return dict(body["data"])


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "metadata"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["metadata"]["success"] is False
    assert isinstance(body["metadata"]["timestamp"], int)
    assert abs(body["metadata"]["timestamp"] - time.time()) < 120
    return dict(body["error"])


def _download(url: str) -> bytes:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def _generate(client: httpx.Client, prompt: str) -> dict[str, Any]:
    return _ok(
        _post(
            client,
            {
                "provider": "azure-openai",
                "model": "gpt-image-2",
                "prompt": prompt,
                "size": "1024x1024",
                "quality": "low",
            },
        )  # fmt: skip
    )


def test_generate_with_gpt_image_2(client: httpx.Client, simulator: Simulator, org: str) -> None:
    prompt = unique_prompt("Studio photo of a small ceramic mug, soft morning light")

    # The gateway's X-Org-ID is not trusted: the token's tenant names the blob.
    response = _post(
        client,
        {"provider": "azure-openai", "model": "gpt-image-2", "prompt": prompt, "size": "1024x1024",
         "quality": "high"},
        headers={"X-Org-ID": "someone-else"},
    )  # fmt: skip

    data = _ok(response)
    assert set(data) == {
        "url", "mimeType", "bytes", "width", "height", "revisedPrompt", "provider", "model", "mode", "usage",
    }  # fmt: skip
    assert data["provider"] == "azure-openai" and data["model"] == "gpt-image-2"
    assert data["mode"] == "generate"
    assert data["mimeType"] == "image/png"
    assert (data["width"], data["height"]) == (1024, 1024)
    assert data["revisedPrompt"] is None
    usage = data["usage"]
    assert usage["outputTokens"] == 272 and usage["inputTokens"] >= 1
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    path = unquote(urlsplit(data["url"]).path)
    match = re.search(rf"/images/{org}/(\d{{4}}-\d{{2}}-\d{{2}})/{UUID}\.png$", path)
    assert match, path
    assert abs((datetime.now(UTC) - datetime.fromisoformat(match[1]).replace(tzinfo=UTC)).days) <= 1
    image = _download(data["url"])
    assert image.startswith(b"\x89PNG") and len(image) == data["bytes"]
    [sent] = simulator.requests_for(prompt)
    assert sent["kind"] == "image"
    assert sent["body"]["size"] == "1024x1024" and sent["body"]["quality"] == "high"
    assert sent["body"].get("n", 1) == 1


def test_edit_by_url_chains_a_previous_result_into_gemini(client: httpx.Client, simulator: Simulator) -> None:
    base = _generate(client, unique_prompt("a red fox in an autumn forest"))
    base_bytes = _download(base["url"])
    prompt = unique_prompt("Replace the sky with a sunset")

    data = _ok(
        _post(
            client,
            {
                "provider": "gemini",
                "model": GEMINI,
                "prompt": prompt,
                "referenceImage": {"url": base["url"], "mimeType": "image/png"},
            },
        )  # fmt: skip
    )

    assert data["mode"] == "edit"
    assert data["provider"] == "gemini" and data["model"] == GEMINI
    usage = data["usage"]  # the simulated Gemini reports usage metadata: passed through
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert _download(data["url"])[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    [sent] = simulator.requests_for(prompt)
    assert sent["references"] == [
        {"mimeType": "image/png", "bytes": len(base_bytes), "sha256": _sha(base_bytes)}
    ]


def test_edit_by_base64_on_azure(client: httpx.Client, simulator: Simulator) -> None:
    source = _png((96, 64))
    prompt = unique_prompt("Make it look like a watercolor painting")

    data = _ok(
        _post(
            client,
            {
                "provider": "azure-openai",
                "model": "gpt-image-2",
                "prompt": prompt,
                "size": "1024x1024",
                "quality": "low",
                "referenceImage": {"b64": _b64(source), "mimeType": "image/png"},
            },
        )  # fmt: skip
    )

    assert data["mode"] == "edit"
    [sent] = simulator.requests_for(prompt)
    assert sent["kind"] == "edit" and sent["path"].endswith("/images/edits")
    assert sent["references"] == [{"mimeType": "image/png", "bytes": len(source), "sha256": _sha(source)}]
    assert sent["mask"] is None


def _mask_url(blob_service: BlobServiceClient, container: str, data: bytes) -> str:
    """A mask on the service's own (local) storage account, readable by a SAS URL: the documented
    `mask.url` case."""
    blob = blob_service.get_blob_client(container, f"test-masks/{uuid.uuid4()}.png")
    blob.upload_blob(data, content_settings=ContentSettings(content_type="image/png"))
    token = generate_blob_sas(
        account_name=str(blob_service.account_name),
        container_name=container,
        blob_name=blob.blob_name,
        account_key=blob_service.credential.account_key,
        permission=BlobSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    return f"{blob.url}?{token}"


@pytest.mark.parametrize("given_as", ["url", "b64"])
def test_edit_with_an_inpainting_mask_on_azure(
    client: httpx.Client,
    simulator: Simulator,
    blob_service: BlobServiceClient,
    stack: LocalStack,
    given_as: str,
) -> None:
    base = _generate(client, unique_prompt("an empty living room"))
    mask = _png((1024, 1024), mode="RGBA")
    source = (
        {"url": _mask_url(blob_service, stack.settings.images_container, mask)}
        if given_as == "url"
        else {"b64": _b64(mask)}
    )
    prompt = unique_prompt("Replace the masked area with a wooden table")

    data = _ok(
        _post(
            client,
            {
                "provider": "azure-openai",
                "model": "gpt-image-2",
                "prompt": prompt,
                "size": "1024x1024",
                "referenceImage": {"url": base["url"], "mimeType": "image/png"},
                "mask": source,
            },
        )  # fmt: skip
    )

    assert data["mode"] == "edit"
    [sent] = simulator.requests_for(prompt)
    assert sent["kind"] == "edit" and sent["path"].endswith("/images/edits")
    assert sent["mask"] == {"mimeType": "image/png", "bytes": len(mask), "sha256": _sha(mask)}
    assert sent["references"][0]["sha256"] == _sha(_download(base["url"]))


_JPEG = _b64(_png((16, 16), fmt="JPEG"))
_OPAQUE = _b64(_png((16, 16)))
_REF_URL = {"url": "https://evil.example.net/a.png", "mimeType": "image/png"}


# Each request breaks its rule AND a later one: the answer names the first, as the seed orders them.
@pytest.mark.parametrize(
    ("body", "code", "field", "says"),
    [
        ({"provider": "openai", "model": ""}, "INVALID_INPUT", "provider", "provider"),
        ({"model": " ", "prompt": ""}, "INVALID_INPUT", "model", "model"),
        ({"prompt": "", "referenceImage": {"mimeType": "image/png"}}, "INVALID_INPUT", "prompt", "prompt"),
        ({"prompt": "x" * 4001, "referenceImage": {}}, "INVALID_INPUT", "prompt", "4000"),
        (
            {"referenceImage": {"url": "https://a/b.png", "b64": _OPAQUE, "mimeType": "image/png"},
             "provider": "gemini", "model": GEMINI, "mask": {"b64": _OPAQUE}},
            "INVALID_INPUT", "referenceImage", "exactly one",
        ),
        (
            {"referenceImage": {"b64": _OPAQUE, "mimeType": "image/gif"}, "provider": "gemini",
             "model": GEMINI, "mask": {"b64": _OPAQUE}},
            "INVALID_INPUT", "referenceImage", "mimeType",
        ),
        (
            {"mask": {"b64": _JPEG}, "provider": "gemini", "model": GEMINI},
            "VALIDATION_ERROR", "mask", "requires",
        ),
        (
            {"mask": {"b64": _JPEG}, "provider": "gemini", "model": GEMINI,
             "referenceImage": {"b64": _OPAQUE, "mimeType": "image/png"}},
            "VALIDATION_ERROR", "mask", "azure-openai",
        ),
        ({"mask": {"b64": _JPEG}, "referenceImage": _REF_URL}, "VALIDATION_ERROR", "mask", "PNG"),
        ({"mask": {"b64": _OPAQUE}, "referenceImage": _REF_URL}, "VALIDATION_ERROR", "mask", "alpha"),
        (
            {"referenceImage": {"url": "http://images.example.com/a.png", "mimeType": "image/png"}},
            "VALIDATION_ERROR", "referenceImage.url", "https",
        ),
        ({"referenceImage": _REF_URL}, "VALIDATION_ERROR", "referenceImage.url", "allowlist"),
        (
            {"referenceImage": {"b64": _b64(b"not an image at all"), "mimeType": "image/png"}},
            "VALIDATION_ERROR", "referenceImage", "PNG",
        ),
        ({"model": "gpt-image-9"}, "INVALID_INPUT", "model", "gpt-image-9"),
        ({"size": "999x999"}, "INVALID_INPUT", "size", "size"),
        ({"n": 2}, "INVALID_INPUT", "n", "unknown field"),
    ],
    ids=[
        "provider", "model", "prompt-empty", "prompt-long", "reference-both", "reference-mime",
        "mask-without-reference", "mask-with-gemini", "mask-not-png", "mask-without-alpha",
        "reference-http", "reference-host", "reference-bytes", "unknown-model", "bad-size", "unknown-field",
    ],
)  # fmt: skip
def test_validation_rules_in_the_documented_order(
    client: httpx.Client, simulator: Simulator, body: dict[str, Any], code: str, field: str, says: str
) -> None:
    prompt = unique_prompt("rule")
    request = {"provider": "azure-openai", "model": "gpt-image-2", "prompt": prompt, **body}

    error = _error(_post(client, request), 400, code)

    assert error["details"]["field"] == field, error
    assert says.lower() in error["message"].lower(), error
    assert simulator.requests_for(prompt) == []


def test_invalid_json_is_invalid_input(client: httpx.Client) -> None:
    response = client.post(ROUTE, content=b"{not json", headers={"Content-Type": "application/json"})

    _error(response, 400, "INVALID_INPUT")


def test_missing_and_expired_tokens_are_401_and_a_token_without_the_scope_is_403(
    stack: LocalStack, contract: Contract, oidc_issuer: Issuer, org: str
) -> None:
    body = {"provider": "gemini", "model": GEMINI, "prompt": "x"}
    expired = oidc_issuer.token(tid=org, scp="write:image-gen", expires_in=-300)
    read_only = oidc_issuer.token(tid=org, scp="read:image-gen")
    with api_client(stack, contract) as http:
        _error(http.post(ROUTE, json=body), 401, "UNAUTHORIZED")
        _error(
            http.post(ROUTE, json=body, headers={"Authorization": f"Bearer {expired}"}), 401, "UNAUTHORIZED"
        )
        error = _error(
            http.post(ROUTE, json=body, headers={"Authorization": f"Bearer {read_only}"}), 403, "FORBIDDEN"
        )
    assert "write:image-gen" in error["message"]


def test_a_provider_down_through_every_retry_is_503(client: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("http_503", count=20, model="gpt-image-1")
    prompt = unique_prompt("provider down")

    error = _error(
        _post(client, {"provider": "azure-openai", "model": "gpt-image-1", "prompt": prompt}),
        503,
        "SERVICE_UNAVAILABLE",
    )

    assert error["details"]["reason"] == "PROVIDER_UNAVAILABLE"
    assert len(simulator.requests_for(prompt)) == 3  # PROVIDER_MAX_ATTEMPTS in the test settings


def test_a_content_policy_block_is_invalid_input(client: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("safety", model="gpt-image-2")
    prompt = unique_prompt("something the safety system refuses")

    error = _error(
        _post(client, {"provider": "azure-openai", "model": "gpt-image-2", "prompt": prompt}),
        400,
        "INVALID_INPUT",
    )

    assert error["details"]["reason"] == "CONTENT_POLICY"
    assert len(simulator.requests_for(prompt)) == 1


def test_a_job_not_done_within_the_wait_is_504_and_names_the_job(
    client: httpx.Client, simulator: Simulator, jobs_container: ContainerProxy, org: str
) -> None:
    simulator.fault("hang", count=5, model="dall-e-3")
    prompt = unique_prompt("a very slow painting")

    started = time.monotonic()
    error = _error(
        _post(client, {"provider": "azure-openai", "model": "dall-e-3", "prompt": prompt, "style": "vivid"}),
        504,
        "TIMEOUT",
    )

    assert time.monotonic() - started >= 24  # seed003 in COMPAT_WAIT_SECONDS of the test settings
    job = jobs_container.read_item(error["details"]["jobId"], partition_key=org)
    assert job["spec"]["prompt"] == prompt and job["spec"]["style"] == "vivid"


def test_compat_seed003_examples(stack: LocalStack, oidc_issuer: Issuer, tmp_path: Path) -> None:
    base = stack.endpoints.api_url.removesuffix("/api")
    # The token comes from `python -m devtools.token`, as written, reading this session's issuer.
    assert oidc_issuer.directory is not None
    result = run_marked_example(
        "docs/compat.md",
        "compat-example: seed 003",
        cwd=tmp_path,
        substitutions={
            "GATEWAY=http://127.0.0.1:7071": f"GATEWAY={base}",
            ".venv/bin/python -m devtools.token": f"{sys.executable} -m devtools.token",
        },
        env={"PYTHONPATH": str(ROOT), "DEV_OIDC_DIR": str(oidc_issuer.directory)},
        timeout=180,
    )

    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines[0] == "200 generate image/png 1024x1024"
    assert lines[1] == "200 edit gemini"
    assert lines[2] == "400 VALIDATION_ERROR false"
