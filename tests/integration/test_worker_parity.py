"""Parity: the dev host answers what the Functions host and the real Python worker answer.

The dev host itself runs azure-functions-runtime, so the reference is the runtime fed a message built
independently of the dev host (tests/integration/worker_reference.py builds it from the request as it went
over the wire, by the host's documented rules) in a separate process with the same settings. Each case
goes to both: status, headers and body must agree, for every route family; and none of them, although the
host hands the functions an empty chunked body or joined repeated values, may be a 5xx.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from devtools.stack.stack import ROOT, LocalStack
from tests.integration.conftest import ADMIN_KEY, create_key, unique_tenant

pytestmark = pytest.mark.integration

REQUEST_ID = "parity-test-request"
# Answer headers that differ between two identical requests by design: the rate-limit window moves on.
VOLATILE_HEADERS = {"x-ratelimit-remaining", "x-ratelimit-reset"}
# Body fields that carry the time of answering (seed 003's envelope metadata).
VOLATILE_FIELDS = {"timestamp"}
# What the HTTP server adds around the function's answer.
SERVER_HEADERS = {"date", "server", "content-length", "connection", "transfer-encoding"}


@dataclass
class Case:
    family: str
    function: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    chunked: bool = False

    def wire_headers(self, host: str) -> list[tuple[str, str]]:
        framing = []
        if self.body is not None:
            framing = (
                [("Transfer-Encoding", "chunked")]
                if self.chunked
                else [("Content-Length", str(len(self.body)))]
            )
        return [
            ("Host", host),
            ("Connection", "close"),
            ("X-Request-Id", REQUEST_ID),
            *self.headers,
            *framing,
        ]


def send(port: int, case: Case) -> dict[str, Any]:
    """The request exactly as listed (no header added), over a plain socket, and its answer."""
    lines = [f"{case.method} {case.path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in case.wire_headers(f"127.0.0.1:{port}")]
    payload = b""
    if case.body is not None:
        payload = (
            b"".join(
                f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (case.body[:5], case.body[5:])
            )
            + b"0\r\n\r\n"
            if case.chunked
            else case.body
        )
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + payload)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        headers = sorted([name.lower(), value] for name, value in response.getheaders())
    return {"status": response.status, "headers": headers, "body": base64.b64encode(body).decode()}


def reference_answers(stack: LocalStack, cases: list[Case]) -> list[dict[str, Any]]:
    port = stack.endpoints.api_port
    payload = [
        {
            "function": case.function,
            "method": case.method,
            "url": f"http://127.0.0.1:{port}{case.path}",
            "headers": case.wire_headers(f"127.0.0.1:{port}"),
            "body": base64.b64encode(case.body or b"").decode(),
            "params": case.params,
        }
        for case in cases
    ]
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.worker_reference", str(ROOT)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**stack.values, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=300,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "*" if k in VOLATILE_FIELDS else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    body = base64.b64decode(answer["body"])
    try:
        decoded: Any = _masked(json.loads(body))
    except ValueError:
        decoded = body.decode(errors="replace")
    headers = [
        [name, "*" if name in VOLATILE_HEADERS else value]
        for name, value in answer["headers"]
        if name not in SERVER_HEADERS
    ]
    return {"status": answer["status"], "headers": sorted(headers), "body": decoded}


JSON = [("Content-Type", "application/json")]
SUBMIT = json.dumps({"prompt": "parity", "aspectRatio": "16:9"}).encode()
UNKNOWN = str(uuid.uuid4())


def cases(key: str) -> list[Case]:
    api = [("X-API-Key", key)]
    twice = [("X-API-Key", key), ("X-API-Key", key)]
    admin = [("X-Admin-Key", ADMIN_KEY)]
    return [
        # An empty query value, a repeated one (the host joins them), a chunked body (handed over empty).
        Case("native", "list_generations", "GET", "/api/v1/images/generations?status=", headers=api),
        Case("native", "list_generations", "GET", "/api/v1/images/generations?limit=2&limit=3", headers=api),
        Case("native", "submit_generation", "POST", "/api/v1/images/generations", headers=api + JSON,
             body=SUBMIT, chunked=True),
        Case("native", "get_generation", "GET", f"/api/v1/images/generations/{UNKNOWN}",
             params={"job_id": UNKNOWN}, headers=api),
        Case("native", "list_generations", "GET", "/api/v1/images/generations", headers=twice),
        Case("library", "list_library_images", "GET", "/api/v1/images?limit=1&limit=2", headers=api),
        Case("library", "get_library_image", "GET", f"/api/v1/images/{UNKNOWN}", params={"image_id": UNKNOWN},
             headers=api),
        Case("gallery", "list_gallery_images", "GET", "/api/v1/gallery?limit=1&limit=2", headers=api),
        Case("presets", "list_presets", "GET", "/api/v1/presets", headers=api),
        Case("presets", "create_preset", "POST", "/api/v1/presets", headers=api + JSON, body=b'{"name": "p"}',
             chunked=True),
        Case("usage", "get_usage", "GET", "/api/v1/usage?from=", headers=api),
        Case("webhooks", "get_webhook_secret", "GET", "/api/v1/webhooks/secret", headers=twice),
        Case("admin", "list_api_keys", "GET", "/api/v1/admin/api-keys?tenantId=", headers=admin),
        Case("admin", "create_api_key", "POST", "/api/v1/admin/api-keys", headers=admin + JSON,
             body=b'{"tenantId": "t"}', chunked=True),
        Case("admin", "list_api_keys", "GET", "/api/v1/admin/api-keys", headers=admin + admin),
        Case("openapi", "openapi_document", "GET", "/api/openapi.json"),
        Case("seed000", "seed000_create_image", "POST", "/api/image", headers=api + JSON, body=SUBMIT,
             chunked=True),
        Case("seed000", "seed000_get_image_metadata", "GET", f"/api/image/{UNKNOWN}",
             params={"generation_id": UNKNOWN}, headers=api),
        Case("seed001", "seed001_list_generations", "GET", "/api/v1/generations?limit=2&limit=3",
             headers=api),
        Case("seed001", "seed001_create_generation", "POST", "/api/v1/generations", headers=api + JSON,
             body=SUBMIT, chunked=True),
        Case("seed002", "seed002_list_library_images", "GET", "/api/v0/images/library?limit=1&limit=2",
             headers=api),
        Case("seed002", "seed002_submit_generation", "POST", "/api/v0/images/generations", headers=api + JSON,
             body=SUBMIT, chunked=True),
        Case("seed003", "agent_images", "POST", "/api/v1/agents/images", headers=api + JSON, body=SUBMIT,
             chunked=True),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def answers(stack: LocalStack, admin: httpx.Client) -> list[tuple[Case, dict[str, Any], dict[str, Any]]]:
    key = create_key(admin, unique_tenant("parity"))["key"]
    all_cases = cases(key)
    dev_host = [comparable(send(stack.endpoints.api_port, case)) for case in all_cases]
    reference = [comparable(answer) for answer in reference_answers(stack, all_cases)]
    return list(zip(all_cases, dev_host, reference, strict=True))


def test_every_route_family_is_covered(answers: list[tuple[Case, dict[str, Any], dict[str, Any]]]) -> None:
    families = {case.family for case, _, _ in answers}

    assert families == {
        "native", "library", "gallery", "presets", "usage", "webhooks", "admin", "openapi",
        "seed000", "seed001", "seed002", "seed003",
    }  # fmt: skip


def test_the_dev_host_answers_what_the_real_worker_answers(
    answers: list[tuple[Case, dict[str, Any], dict[str, Any]]],
) -> None:
    for case, dev_host, reference in answers:
        assert dev_host == reference, f"{case.method} {case.path} ({case.family})"


def test_no_refused_input_is_a_server_error(
    answers: list[tuple[Case, dict[str, Any], dict[str, Any]]],
) -> None:
    server_errors = [(c.method, c.path, d["status"]) for c, d, _ in answers if d["status"] >= 500]

    assert server_errors == []


def test_the_issues_three_requests_answer_as_the_real_host(
    answers: list[tuple[Case, dict[str, Any], dict[str, Any]]],
) -> None:
    empty_value, repeated_key, chunked_submit = (dev_host for _, dev_host, _ in answers[:3])

    assert empty_value["status"] == 200 and empty_value["body"]["items"] == []
    assert repeated_key["status"] == 400
    assert repeated_key["body"]["error"]["code"] == "VALIDATION_ERROR"
    assert chunked_submit["status"] == 400
    assert "not valid JSON" in chunked_submit["body"]["error"]["message"]
