"""Provider quotas on the real stack: two dev host processes, beside the session's, consume one queue of
their own for a model whose quota the simulator enforces over any 60 seconds, as a provider does. Their
workers share the quota through Cosmos DB: every job succeeds, the simulator never refuses a call and
never sees more than the quota in a minute, and a job waiting for its turn shows its queue position and
expected start, which the status URL's Retry-After follows."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import httpx
import pytest
from azure.cosmos import ContainerProxy

from devtools.stack.processes import free_port
from devtools.stack.stack import LocalStack
from tests.integration.conftest import (
    DEV_KEY,
    Simulator,
    api_client,
    submit,
    unique_prompt,
    wait_for_terminal,
)
from tests.integration.contract import Contract

pytestmark = pytest.mark.integration

MODEL = "gemini-quota-image"
PER_MINUTE = 3
JOBS = 6  # two minutes' worth
# A second model with a quota, for the provider's 429s (their slow-down stays on that model).
REFUSING_MODEL = "gemini-quota-image-refusing"


@pytest.fixture(scope="module")
def two_hosts(stack: LocalStack) -> Iterator[list[LocalStack]]:
    values = {
        **stack.values,
        "GEMINI_MODELS": f"{stack.values['GEMINI_MODELS']},{MODEL},{REFUSING_MODEL}",
        "PROVIDER_QUOTAS": f"gemini/{MODEL}=rpm:{PER_MINUTE}, gemini/{REFUSING_MODEL}=rpm:20",
        # Their own queues, so that the session host (which has no quota) never takes their jobs.
        "JOBS_QUEUE": "quota-jobs",
        "WEBHOOKS_QUEUE": "quota-webhooks",
        # Small batches, so that both hosts get messages.
        "AzureFunctionsJobHost__extensions__queues__batchSize": "2",
        "AzureFunctionsJobHost__extensions__queues__newBatchThreshold": "1",
    }
    hosts: list[LocalStack] = []
    try:
        for name in ("one", "two"):
            host = LocalStack(
                values=values,
                endpoints=dataclasses.replace(stack.endpoints, api_port=free_port()),
                data_dir=stack.data_dir,
                log_dir=stack.data_dir / f"quota-{name}-logs",
                devhost_args=["--no-timers"],
            )
            hosts.append(host)
            host.start_app()
        yield hosts
    finally:
        for host in hosts:
            host.stop()


def first_minute_done(
    api: httpx.Client, job_ids: list[str], jobs: ContainerProxy
) -> tuple[float, httpx.Response]:
    """Once the first minute's jobs have succeeded and a worker has placed another in the model's line
    (a job whose message is still to come is placed from a snapshot up to a couple of seconds old): when,
    and that job's status answer."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        answers = {job_id: api.get(f"/v1/images/generations/{job_id}") for job_id in job_ids}
        if sum(answer.status_code == 200 for answer in answers.values()) >= PER_MINUTE:
            waiting = [job_id for job_id, answer in answers.items() if answer.status_code == 202]
            placed = [
                job_id for job_id in waiting if jobs.read_item(job_id, partition_key="dev").get("quota")
            ]
            if placed:
                asked_at = time.time()
                return asked_at, api.get(f"/v1/images/generations/{placed[0]}")
        time.sleep(0.5)
    raise AssertionError(
        "within 90 s, the first minute's jobs did not succeed or no other job waited in line"
    )


def busiest_minute(moments: list[float]) -> int:
    ordered = sorted(moments)
    return max((sum(1 for t in ordered if start <= t < start + 60) for start in ordered), default=0)


def test_two_hosts_share_one_quota_and_a_waiting_job_shows_its_turn(
    two_hosts: list[LocalStack],
    simulator: Simulator,
    contract: Contract,
    cosmos_containers: Callable[[str], ContainerProxy],
) -> None:
    simulator.configure(quotas={MODEL: {"requestsPerMinute": PER_MINUTE}})
    try:
        with api_client(two_hosts[0], contract, {"X-API-Key": DEV_KEY}) as api:
            prompts = [unique_prompt(f"quota {index}") for index in range(JOBS)]
            jobs = [submit(api, prompt=prompt, model=MODEL) for prompt in prompts]
            asked_at, waiting = first_minute_done(api, [job["id"] for job in jobs], cosmos_containers("jobs"))
            done = [wait_for_terminal(api, job["id"], timeout=240) for job in jobs]
    finally:
        simulator.configure(quotas=None)

    assert waiting.status_code == 202
    view = waiting.json()
    assert view["status"] == "queued" and isinstance(view["queuePosition"], int)
    calls = [call for prompt in prompts for call in simulator.requests_for(prompt, kind="image")]
    # When the quota's first call leaves its 60 s window (a slot may be reserved a few seconds ahead).
    first_admitted = min(call["quotaAdmittedAt"] for call in calls)
    estimated = datetime.fromisoformat(view["estimatedStartAt"]).timestamp()
    assert first_admitted + 50 < estimated < first_admitted + 75, view
    retry_after = int(waiting.headers["Retry-After"])
    follows = max(two_hosts[0].settings.status_retry_after_seconds, min(60, math.ceil(estimated - asked_at)))
    assert abs(retry_after - follows) <= 1, "it follows the estimate"

    assert [job["status"] for job in done] == ["succeeded"] * JOBS
    assert [call for call in calls if call.get("quotaRefused")] == [], "the provider refused nothing"
    assert len(calls) == JOBS
    assert busiest_minute([call["quotaAdmittedAt"] for call in calls]) <= PER_MINUTE
    assert [job["retryCount"] for job in done] == [0] * JOBS
    for host in two_hosts:
        log = (host.log_dir / "devhost.log").read_text()
        assert "ended succeeded" in log, "both hosts ran jobs of the one quota"


def test_a_job_asking_for_more_images_than_its_quota_admits_is_refused(
    two_hosts: list[LocalStack], contract: Contract
) -> None:
    with httpx.Client(base_url=two_hosts[1].endpoints.api_url, headers={"X-API-Key": DEV_KEY}) as api:
        response = api.post("/v1/images/generations", json={"prompt": "four", "model": MODEL, "n": 4})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "n"


def test_a_429_of_a_model_with_a_quota_is_waited_out_not_counted_and_slows_the_model_down(
    two_hosts: list[LocalStack],
    simulator: Simulator,
    contract: Contract,
    cosmos_containers: Callable[[str], ContainerProxy],
) -> None:
    simulator.fault("http_429", count=2, model=REFUSING_MODEL, retry_after=1)
    with api_client(two_hosts[0], contract, {"X-API-Key": DEV_KEY}) as api:
        prompt = unique_prompt("refused twice")
        job = submit(api, prompt=prompt, model=REFUSING_MODEL)
        done = wait_for_terminal(api, job["id"], timeout=90)

    assert done["status"] == "succeeded" and done["retryCount"] == 0, "the refusals were no attempts"
    calls = simulator.requests_for(prompt, kind="image")
    assert len(calls) == 3
    stored = cosmos_containers("jobs").read_item(job["id"], partition_key="dev")
    assert stored["attempts"] == 1 and stored["quota"]["refusals"] == 2
    pace = cosmos_containers("quotas").read_item("pace", partition_key=f"gemini/{REFUSING_MODEL}")
    assert pace["factor"] >= 2.0 and pace["refusals"] >= 1
