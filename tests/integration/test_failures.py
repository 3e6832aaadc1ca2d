"""Every failure ends the job where it should: terminal, with an error code, nothing lost."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from azure.cosmos import ContainerProxy

from devtools.stack.stack import LocalStack
from tests.integration.conftest import QueueFactory, Simulator, submit, unique_prompt, wait_for_terminal

pytestmark = pytest.mark.integration


def test_a_content_policy_block_fails_the_job_without_retrying(
    api: httpx.Client, simulator: Simulator
) -> None:
    simulator.fault("safety", model="gemini-3.1-flash-image-preview")
    prompt = unique_prompt("something forbidden")
    job = submit(api, prompt=prompt, model="gemini-3.1-flash-image-preview")

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "failed"
    assert done["error"]["code"] == "CONTENT_POLICY"
    assert "IMAGE_SAFETY" in done["error"]["message"]
    assert done["outputs"] == []
    assert len(simulator.requests_for(prompt)) == 1


def test_an_azure_content_filter_fails_the_job(api: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("safety", model="gpt-image-2")
    job = submit(api, prompt=unique_prompt("filtered"), provider="azure-openai", model="gpt-image-2")

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "failed"
    assert done["error"]["code"] == "CONTENT_POLICY"


def test_an_answer_without_an_image_fails_with_the_model_text(
    api: httpx.Client, simulator: Simulator
) -> None:
    simulator.fault("no_image", model="gemini-3.1-flash-image-preview")
    job = submit(api, prompt=unique_prompt("describe"), model="gemini-3.1-flash-image-preview")

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "failed"
    assert done["error"]["code"] == "NO_IMAGE"
    assert "I can only describe this image in words." in done["error"]["message"]


def test_a_transient_failure_is_retried_and_the_job_succeeds(api: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("http_500", model="gemini-3-pro-image-preview")
    prompt = unique_prompt("retry me")
    job = submit(api, prompt=prompt, model="gemini-3-pro-image-preview")

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    assert done["retryCount"] == 1
    assert len(simulator.requests_for(prompt)) == 2


def test_a_malformed_answer_is_treated_as_transient(api: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("malformed", model="gemini-3-pro-image-preview")
    prompt = unique_prompt("garbled")
    job = submit(api, prompt=prompt, model="gemini-3-pro-image-preview")

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    assert done["retryCount"] == 1


def test_a_job_whose_message_was_poisoned_ends_failed(
    api: httpx.Client, queues: QueueFactory, jobs_container: ContainerProxy
) -> None:
    job_id = str(uuid.uuid4())
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    jobs_container.create_item(_queued_job(job_id, now))

    # As the host does after maxDequeueCount failed attempts: the message moves to the poison queue.
    queues("generation-jobs-poison").send_message(f'{{"jobId": "{job_id}", "tenantId": "dev"}}')

    done = wait_for_terminal(api, job_id)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "PROCESSING_FAILED"


def test_a_message_that_always_fails_moves_to_the_poison_queue(
    stack: LocalStack, queues: QueueFactory
) -> None:
    # Not a job message: the worker fails on every delivery; after maxDequeueCount (3 in the test
    # settings) the host moves it to the poison queue, whose trigger drops it without failing.
    worker_queue = queues("generation-jobs")
    worker_queue.send_message("this is not a job message")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if worker_queue.get_queue_properties().approximate_message_count == 0:
            break
        time.sleep(0.3)
    log = (stack.log_dir / "devhost.log").read_text()
    assert "has reached MaxDequeueCount of 3; moving it to queue 'generation-jobs-poison'" in log
    poison = queues("generation-jobs-poison")
    deadline = time.monotonic() + 15
    while poison.get_queue_properties().approximate_message_count and time.monotonic() < deadline:
        time.sleep(0.3)
    assert poison.get_queue_properties().approximate_message_count == 0
    assert "is not a job message; dropped" in (stack.log_dir / "devhost.log").read_text()


def test_the_sweeper_ends_jobs_that_made_no_progress(
    api: httpx.Client, stack: LocalStack, jobs_container: ContainerProxy
) -> None:
    job_id = str(uuid.uuid4())
    long_ago = (
        (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    jobs_container.create_item({**_queued_job(job_id, long_ago), "status": "running"})

    response = httpx.post(
        f"{stack.endpoints.host_url}/admin/functions/stale_job_sweeper",
        headers={"x-functions-key": stack.master_key},
        json={"input": ""},
    )
    assert response.status_code == 202

    done = api.get(f"/v1/images/generations/{job_id}").json()
    assert done["status"] == "failed"
    assert done["error"]["code"] == "TIMEOUT"


def _queued_job(job_id: str, timestamp: str) -> dict[str, object]:
    return {
        "id": job_id,
        "tenantId": "dev",
        "docType": "job",
        "status": "queued",
        "spec": {
            "prompt": "stored directly",
            "provider": "gemini",
            "model": "gemini-2.5-flash-image",
            "aspectRatio": "1:1",
        },
        "createdAt": timestamp,
        "updatedAt": timestamp,
    }


# --- every failure class, timeouts, fallback, quota --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "provider", "model", "code", "in_message"),
    [
        (
            "prompt_blocked",
            "gemini",
            "gemini-3.1-flash-image-preview",
            "CONTENT_POLICY",
            "PROHIBITED_CONTENT",
        ),
        ("no_image", "azure-openai", "gpt-image-2", "NO_IMAGE", "no image"),
        ("http_400", "gemini", "gemini-3.1-flash-image-preview", "INVALID_INPUT", "400"),
        ("http_400", "azure-openai", "gpt-image-2", "INVALID_INPUT", "400"),
    ],
)
def test_each_failure_class_ends_the_job_without_retrying(
    api: httpx.Client, simulator: Simulator, kind: str, provider: str, model: str, code: str, in_message: str
) -> None:
    simulator.fault(kind, model=model)
    prompt = unique_prompt(f"fails with {kind}")
    job = submit(api, prompt=prompt, provider=provider, model=model)

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "failed"
    assert done["error"]["code"] == code
    assert in_message in done["error"]["message"]
    assert done["retryCount"] == 0
    assert len(simulator.requests_for(prompt)) == 1


@pytest.mark.parametrize(
    ("provider", "model"), [("gemini", "gemini-3-pro-image-preview"), ("azure-openai", "gpt-image-1")]
)
def test_a_hung_reply_times_out_and_is_retried(
    api: httpx.Client, simulator: Simulator, provider: str, model: str
) -> None:
    simulator.fault("hang", model=model)
    prompt = unique_prompt("hangs once")
    job = submit(api, prompt=prompt, provider=provider, model=model)

    done = wait_for_terminal(api, job["id"], timeout=90)

    assert done["status"] == "succeeded", done
    assert done["retryCount"] == 1
    first, second = simulator.requests_for(prompt)
    assert second["receivedAt"] - first["receivedAt"] >= 10  # PROVIDER_TIMEOUT_SECONDS in the test settings


def test_a_slow_reply_within_the_timeout_succeeds_first_time(api: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("slow", model="gemini-3-pro-image-preview", delay_seconds=2)
    prompt = unique_prompt("slow but fine")
    done = wait_for_terminal(api, submit(api, prompt=prompt, model="gemini-3-pro-image-preview")["id"])

    assert done["status"] == "succeeded", done
    assert done["retryCount"] == 0


FALLBACK_SOURCE = "gemini-2.0-flash-preview-image-generation"  # falls back to azure-openai/gpt-image-2


def test_an_unavailable_provider_falls_back_and_the_job_records_who_served_it(
    api: httpx.Client, simulator: Simulator
) -> None:
    simulator.fault("http_503", model=FALLBACK_SOURCE, count=10)
    prompt = unique_prompt("served elsewhere")
    job = submit(api, prompt=prompt, model=FALLBACK_SOURCE, aspectRatio="16:9")

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    assert done["provider"] == "gemini" and done["model"] == FALLBACK_SOURCE  # what was asked
    assert done["servedBy"] == "azure-openai/gpt-image-2"
    assert done["retryCount"] == 0
    assert any("fell back" in warning for warning in done["warnings"])
    gemini, azure = simulator.requests_for(prompt)
    assert gemini["provider"] == "gemini"
    assert azure["path"] == "/openai/deployments/gpt-image-2/images/generations"
    assert azure["body"]["size"] == "1536x1024"


def test_a_content_policy_block_never_falls_back(api: httpx.Client, simulator: Simulator) -> None:
    simulator.fault("safety", model=FALLBACK_SOURCE)
    prompt = unique_prompt("blocked, stays blocked")
    done = wait_for_terminal(api, submit(api, prompt=prompt, model=FALLBACK_SOURCE)["id"])

    assert done["status"] == "failed"
    assert done["error"]["code"] == "CONTENT_POLICY"
    assert [request["provider"] for request in simulator.requests_for(prompt)] == ["gemini"]


def test_the_simulator_quota_answers_429_with_retry_after(stack: LocalStack) -> None:
    assert stack.endpoints.simulator_url
    with httpx.Client(base_url=stack.endpoints.simulator_url, timeout=10) as client:
        client.post("/_sim/config", json={"quotaPerMinute": 1}).raise_for_status()
        try:
            url = "/openai/deployments/quota-test/images/generations?api-version=2025-04-01-preview"
            headers = {"api-key": "simulator-key"}
            first = client.post(url, json={"prompt": "q"}, headers=headers)
            second = client.post(url, json={"prompt": "q"}, headers=headers)
        finally:
            client.post("/_sim/config", json={"quotaPerMinute": None}).raise_for_status()

    assert first.status_code == 200
    assert second.status_code == 429
    assert 50 <= int(second.headers["Retry-After"]) <= 60
