"""The Python client (clients/python) against scripted answers (httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import imagegen
import pytest
import standardwebhooks
from imagegen import webhooks

BASE = "http://api.test/api"
Handler = Callable[[httpx.Request], httpx.Response]


def _job(status: str = "queued", **fields: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "id": "job-1",
        "status": status,
        "prompt": "a lighthouse",
        "provider": "gemini",
        "model": "gemini-2.5-flash-image",
        "aspectRatio": "16:9",
        "createdAt": "2026-11-22T01:53:14.877Z",
        "updatedAt": "2026-11-22T01:53:16.580Z",
        "outputs": [],
        "statusQueryGetUri": f"{BASE}/v1/images/generations/job-1",
    }
    if status == "succeeded":
        job["outputs"] = [
            {"id": "job-1-0", "url": "https://x/0.png", "mimeType": "image/png", "width": 16, "height": 9,
             "bytes": 120}
        ]  # fmt: skip
    return {**job, **fields}


def _client(handler: Handler) -> imagegen.ImageGen:
    return imagegen.ImageGen(BASE, "key-1", transport=httpx.MockTransport(handler))


def test_submit_sends_the_request_fields_headers_and_references() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json=_job(), headers={"Retry-After": "2"})

    with _client(handler) as client:
        job = client.submit(
            "a lighthouse",
            aspect_ratio="16:9",
            n=2,
            reference_images=[b"\x89PNG....", "https://images.example.com/a.png", "job-0-1"],
            idempotency_key="k-1",
            wait=30,
            auto_enhance=True,
            enhancement_template="comic",
        )

    request = seen[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/images/generations")
    assert request.headers["Authorization"] == "Bearer key-1"
    assert request.headers["Idempotency-Key"] == "k-1" and request.headers["Prefer"] == "wait=30"
    assert json.loads(request.content) == {
        "prompt": "a lighthouse",
        "aspectRatio": "16:9",
        "n": 2,
        "referenceImages": [
            {"b64": base64.b64encode(b"\x89PNG....").decode()},
            {"url": "https://images.example.com/a.png"},
            {"outputId": "job-0-1"},
        ],
        "autoEnhance": True,
        "enhancementOptions": {"template": "comic"},
    }
    assert job.status == "queued" and job.retry_after == 2 and job.created_at.tzinfo is not None


def test_wait_polls_as_retry_after_says_and_reports_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(
        [
            (202, _job("queued", queuePosition=3), "3"),
            (202, _job("running"), "1"),
            (200, _job("succeeded"), None),
        ]
    )
    slept: list[float] = []
    monkeypatch.setattr("imagegen._client.time.sleep", slept.append)

    def handler(request: httpx.Request) -> httpx.Response:
        status, body, retry_after = next(answers)
        return httpx.Response(status, json=body, headers={"Retry-After": retry_after} if retry_after else {})

    seen: list[tuple[str, int | None]] = []
    with _client(handler) as client:
        job = client.wait("job-1", on_progress=lambda j: seen.append((j.status, j.queue_position)))

    assert job.succeeded and job.outputs[0].id == "job-1-0"
    assert seen == [("queued", 3), ("running", None), ("succeeded", None)]
    assert slept == [3.0, 1.0]


def test_generate_raises_with_the_jobs_error_code_and_wait_times_out() -> None:
    failed = _job("failed", error={"code": "CONTENT_POLICY", "message": "blocked"})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json=_job())
        return httpx.Response(200, json=failed)

    with _client(handler) as client, pytest.raises(imagegen.JobFailedError) as raised:
        client.generate("x", poll_interval=0)
    assert raised.value.code == "CONTENT_POLICY" and raised.value.job.status == "failed"

    with _client(lambda r: httpx.Response(202, json=_job("running"))) as client:
        with pytest.raises(imagegen.WaitTimeoutError) as timed_out:
            client.wait("job-1", timeout=0.05, poll_interval=0.01)
    assert timed_out.value.job.status == "running"


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (400, "VALIDATION_ERROR", imagegen.BadRequestError),
        (401, "UNAUTHORIZED", imagegen.AuthenticationError),
        (402, "INSUFFICIENT_CREDITS", imagegen.InsufficientCreditsError),
        (403, "FORBIDDEN", imagegen.PermissionDeniedError),
        (404, "NOT_FOUND", imagegen.NotFoundError),
        (409, "JOB_NOT_CANCELABLE", imagegen.ConflictError),
        (429, "RATE_LIMIT_EXCEEDED", imagegen.RateLimitError),
        (503, "SERVICE_UNAVAILABLE", imagegen.ServiceUnavailableError),
        (500, "INTERNAL_ERROR", imagegen.InternalServerError),
    ],
)
def test_error_answers_become_typed_exceptions_with_the_envelopes_code(
    status: int, code: str, exception: type[imagegen.APIError]
) -> None:
    envelope = {"error": {"code": code, "message": "no", "details": {"field": "prompt"}}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=envelope, headers={"x-request-id": "r-1", "Retry-After": "7"})

    with _client(handler) as client, pytest.raises(exception) as raised:
        client.cancel("job-1")

    assert (raised.value.status, raised.value.code, raised.value.details) == (
        status,
        code,
        {"field": "prompt"},
    )
    assert raised.value.request_id == "r-1" and raised.value.retry_after == 7


def test_an_unreachable_api_is_a_connection_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with _client(handler) as client, pytest.raises(imagegen.APIConnectionError):
        client.usage()


def test_iterators_follow_the_page_tokens_and_ids_are_escaped() -> None:
    pages = {None: (["job-1", "job-2"], "t1"), "t1": (["job-3"], None)}
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        if request.url.path.endswith("/generations"):
            ids, token = pages[request.url.params.get("pageToken")]
            assert request.url.params["status"] == "succeeded" and request.url.params["limit"] == "2"
            return httpx.Response(200, json={"items": [_job(id=i) for i in ids], "nextPageToken": token})
        return httpx.Response(200, json=_job())

    with _client(handler) as client:
        ids = [job.id for job in client.jobs(status="succeeded", page_size=2)]
        client.get("a/b")

    assert ids == ["job-1", "job-2", "job-3"]
    assert paths[-1] == "/api/v1/images/generations/a%2Fb"


async def test_the_async_client_submits_waits_and_pages() -> None:
    answers = iter([httpx.Response(202, json=_job()), httpx.Response(200, json=_job("succeeded"))])
    images = {"items": [{"id": "job-1-0", "jobId": "job-1", "url": "u", "mimeType": "image/png", "width": 1,
                         "height": 1, "bytes": 1, "prompt": "p", "provider": "gemini", "model": "m",
                         "aspectRatio": "1:1", "isPublic": True, "createdAt": "2026-11-22T01:53:14.877Z"}],
              "nextPageToken": None}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/gallery"):
            assert "Authorization" not in request.headers
            return httpx.Response(200, json=images)
        return next(answers)

    async with imagegen.AsyncImageGen(BASE, "key-1", transport=httpx.MockTransport(handler)) as client:
        job = await client.generate("a lighthouse", poll_interval=0)
    async with imagegen.AsyncImageGen(BASE, "", transport=httpx.MockTransport(handler)) as anonymous:
        gallery = [image async for image in anonymous.gallery()]

    assert job.succeeded and [image.id for image in gallery] == ["job-1-0"]


def test_webhook_signatures_agree_with_the_reference_implementation() -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    body = json.dumps({"type": "job.completed", "data": {"id": "job-1", "status": "succeeded"}})
    timestamp = datetime.now(UTC)
    reference = standardwebhooks.Webhook(secret)
    headers = {
        "webhook-id": "job-1.completed",
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": reference.sign("job-1.completed", timestamp, body),
    }

    assert webhooks.verify(body, headers, secret)["data"]["id"] == "job-1"  # theirs verified by ours
    ours = {
        **headers,
        "webhook-signature": webhooks.sign(secret, "job-1.completed", int(timestamp.timestamp()), body),
    }
    assert reference.verify(body, ours)["type"] == "job.completed"  # ours verified by theirs
    assert ours["webhook-signature"] == headers["webhook-signature"]


@pytest.mark.parametrize(
    "tamper",
    [
        {"webhook-signature": "v1,AAAA"},
        {"webhook-timestamp": "1000"},
        {"webhook-id": "another"},
    ],
    ids=["bad-signature", "stale-timestamp", "other-id"],
)
def test_a_tampered_webhook_is_refused(tamper: dict[str, str]) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    now = int(datetime.now(UTC).timestamp())
    headers = {"webhook-id": "m-1", "webhook-timestamp": str(now)}
    headers["webhook-signature"] = webhooks.sign(secret, "m-1", now, "{}")

    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify("{}", {**headers, **tamper}, secret)
