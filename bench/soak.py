"""Soak: many jobs, provider faults of every kind, the dev host killed several times; then an audit.

`python -m bench.soak [--jobs 1000] [--fault-rate 0.2] [--kills 5]` starts its own stack on free ports,
submits the jobs (a tenth with a `completed` webhook to a receiver in this process), SIGKILLs and
restarts the dev host at intervals while they run, runs the stale-job sweep until every job has ended,
and checks what the README's guarantees promise, from the stores themselves:

- every job terminal; every succeeded job's images downloadable, with the bytes its output records;
- provider calls: every image call happened under a claim (calls ≤ claims: no duplicate call), and
  claims beyond the job's own retries are the runs a kill interrupted;
- credits balanced: spent = the cost of the succeeded jobs, nothing still reserved;
- no duplicated document, no image blob that no job names;
- each webhook job's `completed` event delivered once (by webhook-id).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import threading
import time
from collections import Counter
from typing import Any

import httpx
from aiohttp import web
from azure.cosmos import CosmosClient
from azure.storage.blob import BlobServiceClient

from bench.local_stack import bench_stack
from devtools.stack.stack import LocalStack

KEY = "local-dev-key"
FAULT_KINDS = [
    "http_429",
    "http_500",
    "http_503",
    "hang",
    "malformed",
    "slow",
    "safety",
    "no_image",
    "http_400",
    "prompt_blocked",
]
SETTINGS = {
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.500",
    "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
    "PROVIDER_TIMEOUT_SECONDS": "5",
    "RETRY_BASE_SECONDS": "1",
    "RETRY_MAX_SECONDS": "4",
    "JOB_CLAIM_SECONDS": "15",
    "STALE_JOB_MINUTES": "1",
    "DEFAULT_CREDIT_BALANCE": "1000000",
    "DEV_API_KEY_RATE_LIMIT": "1000000",
    "WEBHOOK_DEV_HOSTS": "127.0.0.1",
    "WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WEBHOOK_RETRY_MAX_SECONDS": "2",
    # A message a killed host held comes back when its lease lapses (10 minutes on the real host); 30 s
    # here, renewed every 15 s while a function runs, so the audit need not wait ten minutes.
    "DEVHOST_QUEUE_LEASE_SECONDS": "30",
}
# How long the audit waits for the `completed` webhooks still on their way once every job has ended.
WEBHOOK_WAIT_SECONDS = 120


class Receiver:
    """Webhook deliveries, by webhook-id."""

    def __init__(self) -> None:
        self.deliveries: Counter[str] = Counter()
        self.delivered_at: dict[str, list[float]] = {}
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        webhook_id = request.headers.get("webhook-id", "?")
        self.deliveries[webhook_id] += 1
        self.delivered_at.setdefault(webhook_id, []).append(time.time())
        await request.read()
        return web.Response(status=200)

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        threading.Thread(target=loop.run_forever, daemon=True).start()


async def submit_all(api_url: str, jobs: int, receiver: Receiver) -> list[dict[str, Any]]:
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=api_url, headers={"X-API-Key": KEY}, timeout=120) as client:

        async def one(index: int) -> dict[str, Any]:
            body: dict[str, Any] = {"prompt": f"soak image {index} {random.random():.6f}"}
            if index % 10 == 0:
                body |= {"webhook": receiver.url, "webhookEvents": ["completed"]}
            # A submit cut off by a kill is sent again with the same Idempotency-Key, as a client should.
            headers = {"Idempotency-Key": f"soak-{index}-{random.random()}"}
            async with limit:
                for _ in range(90):  # the dev host may be down for a moment (a kill)
                    try:
                        response = await client.post("/v1/images/generations", json=body, headers=headers)
                        if response.status_code == 202:
                            return dict(response.json()) | {"webhooked": "webhook" in body}
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(1)
            raise RuntimeError(f"job {index} could not be submitted")

        return await asyncio.gather(*(one(i) for i in range(jobs)))


def sweep(stack: LocalStack) -> None:
    try:
        httpx.post(
            f"{stack.endpoints.host_url}/admin/functions/stale_job_sweeper",
            headers={"x-functions-key": stack.master_key},
            json={"input": ""},
            timeout=60,
        )
    except httpx.TransportError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--kill-every", type=float, default=25.0, help="seconds between kills")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    receiver = Receiver()
    receiver.start()
    with bench_stack(SETTINGS) as stack:
        assert stack.endpoints.simulator_url
        httpx.post(
            f"{stack.endpoints.simulator_url}/_sim/config",
            json={"randomFaults": {"rate": args.fault_rate, "kinds": FAULT_KINDS, "delaySeconds": 2}},
        ).raise_for_status()
        run(stack, args, receiver)


def run(stack: LocalStack, args: argparse.Namespace, receiver: Receiver) -> None:
    started = time.monotonic()
    kills: list[float] = []

    def killer() -> None:
        for _ in range(args.kills):
            time.sleep(args.kill_every)
            stack.crash_devhost()
            kills.append(time.time())
            stack.restart_devhost()

    kill_thread = threading.Thread(target=killer)
    kill_thread.start()
    jobs = asyncio.run(submit_all(stack.endpoints.api_url, args.jobs, receiver))
    submitted = time.monotonic() - started
    kill_thread.join()

    settings = stack.settings
    assert settings.cosmos_key and settings.storage_connection_string
    cosmos = CosmosClient(
        settings.cosmos_endpoint,
        credential=settings.cosmos_key.get_secret_value(),
        enable_endpoint_discovery=False,
    )
    database = cosmos.get_database_client(settings.cosmos_database)
    container = database.get_container_client("jobs")
    ids = {job["id"] for job in jobs}
    while True:
        documents = [d for d in container.query_items("SELECT * FROM c", enable_cross_partition_query=True)]
        mine = [d for d in documents if d["id"] in ids]
        open_jobs = [d for d in mine if d["status"] in ("queued", "running")]
        if not open_jobs:
            break
        if time.monotonic() - started > args.timeout:
            raise SystemExit(f"{len(open_jobs)} job(s) still open after {args.timeout:.0f}s")
        sweep(stack)
        time.sleep(10)
    ended = time.monotonic() - started
    sweep(stack)  # finishes interrupted end-of-job work, settles what a kill left unsettled
    time.sleep(5)
    sweep(stack)
    expected = {f"{d['id']}.completed" for d in mine if d.get("webhook")}
    deadline = time.monotonic() + WEBHOOK_WAIT_SECONDS
    while not expected <= set(receiver.deliveries) and time.monotonic() < deadline:
        time.sleep(2)  # deliveries a kill interrupted come back when their message's lease lapses
    documents = [d for d in container.query_items("SELECT * FROM c", enable_cross_partition_query=True)]
    mine = [d for d in documents if d["id"] in ids]
    audit(stack, args, jobs, mine, kills, receiver, database, submitted, ended)


def audit(
    stack: LocalStack,
    args: argparse.Namespace,
    jobs: list[dict[str, Any]],
    documents: list[dict[str, Any]],
    kills: list[float],
    receiver: Receiver,
    database: Any,
    submitted: float,
    ended: float,
) -> None:
    settings = stack.settings
    assert settings.storage_connection_string and stack.endpoints.simulator_url
    statuses = Counter(d["status"] for d in documents)
    codes = Counter(d["error"]["code"] for d in documents if d.get("error"))
    print(f"jobs={len(jobs)} fault_rate={args.fault_rate} kills={len(kills)}")
    print(f"submitted in {submitted:.0f}s, all ended after {ended:.0f}s")
    print(f"documents={len(documents)} (unique ids {len({d['id'] for d in documents})})")
    print(f"statuses={dict(statuses)}")
    print(f"error codes={dict(codes)}")

    blobs = BlobServiceClient.from_connection_string(settings.storage_connection_string.get_secret_value())
    images = blobs.get_container_client(settings.images_container)
    stored = {b.name: b.size for b in images.list_blobs(name_starts_with="images/dev/")}
    referenced = {o["blobName"]: o["bytes"] for d in documents for o in d.get("outputs", [])}
    missing = [name for name in referenced if name not in stored]
    wrong_size = [name for name, size in referenced.items() if name in stored and stored[name] != size]
    orphans = [name for name in stored if name not in referenced]
    downloads_failed = 0
    with httpx.Client(base_url=stack.endpoints.api_url, headers={"X-API-Key": KEY}, timeout=60) as api:
        for document in documents:
            if document["status"] == "succeeded":
                view = api.get(f"/v1/images/generations/{document['id']}").json()
                for output in view["outputs"]:
                    if httpx.get(output["url"], timeout=60).status_code != 200:
                        downloads_failed += 1
    print(
        f"images: referenced={len(referenced)} missing={len(missing)} wrong_size={len(wrong_size)} "
        f"orphans={len(orphans)} downloads_failed={downloads_failed}"
    )

    requests = httpx.get(f"{stack.endpoints.simulator_url}/_sim/requests", timeout=60).json()
    by_prompt = Counter(r["prompt"] for r in requests if r.get("kind") != "text")
    calls = sum(by_prompt[d["spec"]["prompt"]] for d in documents)
    claims = sum(d.get("attempts", 0) for d in documents)
    beyond_claims = sum(max(0, by_prompt[d["spec"]["prompt"]] - d.get("attempts", 0)) for d in documents)
    # A run is interrupted when the job was claimed more often than it failed transiently plus once.
    interrupted = sum(
        max(0, d.get("attempts", 0) - d.get("retryCount", 0) - 1) for d in documents if d.get("attempts")
    )
    print(
        f"provider image calls={calls} claims={claims} calls_beyond_claims={beyond_claims} "
        f"runs_interrupted_by_kills={interrupted}"
    )

    credits = database.get_container_client("credits").read_item("balance", partition_key="dev")
    cost = sum(d.get("credits") or 0 for d in documents if d["status"] == "succeeded")
    print(
        f"credits: spent={credits['spent']} succeeded_cost={cost} reserved={credits['reserved']} "
        f"open_reservations={credits['openReservations']} balance_ok="
        f"{credits['balance'] == 1_000_000 - credits['spent']}"
    )

    webhooked = [d for d in documents if d.get("webhook")]
    time.sleep(5)  # deliveries queued by the last sweep
    completed = [receiver.deliveries.get(f"{d['id']}.completed", 0) for d in webhooked]
    print(
        f"webhooks: jobs={len(webhooked)} completed_once={completed.count(1)} "
        f"missing={completed.count(0)} repeated={sum(1 for c in completed if c > 1)}"
    )
    # A delivery repeated with its webhook-id is at-least-once delivery working (receivers dedupe by
    # it) when a kill came between the two: the host died after the POST, before deleting the message.
    for webhook_id, times in receiver.delivered_at.items():
        if len(times) > 1:
            across = any(first < kill < times[-1] for first in times[:1] for kill in kills)
            print(f"  {webhook_id} delivered {len(times)} times; a kill between them: {across}")
    pending = sum(1 for d in documents if d.get("webhookPending") or d.get("cleanupPending"))
    print(f"end-of-job work still pending={pending}")


if __name__ == "__main__":
    main()
