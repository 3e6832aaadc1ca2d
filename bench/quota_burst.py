"""A burst far above a model's provider quota, on the local stack with the simulator enforcing the quota.

`python -m bench.quota_burst [--jobs 200] [--per-minute 30] [--hosts 1|2] [--no-schedule]` starts its
own stack on free ports, has the simulator admit at most `--per-minute` calls of the model in any 60 s
(refusing the rest with 429, as a provider does), declares the same quota in PROVIDER_QUOTAS (unless
`--no-schedule`: today's behaviour without a declared quota), and submits `--jobs` jobs of one tenant
at once, then one job of a second tenant. `--hosts 2` starts a second dev host on the same queue.

It prints: the jobs' outcomes; the provider calls and how many the quota refused (as a share of the
jobs); the busiest 60 s the simulator saw; the time from the first submit until the last job succeeded,
as a ratio of the time the quota allows (jobs / per-minute minutes) and of the fastest a sliding minute
allows (a full minute's calls at once, every 60 s); how many of the first tenant's calls started between
the second tenant's submit and its call (the slots it waited); how many jobs each host ran.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
from azure.cosmos import CosmosClient

from bench.local_stack import bench_hosts, bench_stack
from devtools.stack.stack import LocalStack

KEY = "local-dev-key"
ADMIN_KEY = "local-admin-key"
MODEL = "gemini-2.5-flash-image"


async def submit_burst(api_url: str, jobs: int, other_key: str) -> tuple[float, list[str], str, float]:
    """The first tenant's burst, then the second tenant's one job: (start, burst ids, its id, its submit)."""
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=api_url, headers={"X-API-Key": KEY}, timeout=120) as client:

        async def one(index: int) -> str:
            async with limit:
                response = await client.post(
                    "/v1/images/generations", json={"prompt": f"burst {index}", "model": MODEL}
                )
                response.raise_for_status()
                return str(response.json()["id"])

        started = time.time()
        ids = await asyncio.gather(*(one(i) for i in range(jobs)))
        other_submitted = time.time()
        response = await client.post(
            "/v1/images/generations",
            json={"prompt": "the other tenant", "model": MODEL},
            headers={"X-API-Key": other_key},
        )
        response.raise_for_status()
        return started, list(ids), str(response.json()["id"]), other_submitted


def second_tenant_key(api_url: str) -> str:
    response = httpx.post(
        f"{api_url}/v1/admin/api-keys",
        headers={"X-Admin-Key": ADMIN_KEY},
        json={"tenantId": "second-tenant", "rateLimit": 1000},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["key"])


def wait_until_ended(values: dict[str, str], expected: int, timeout: float) -> list[dict[str, Any]]:
    cosmos = CosmosClient(
        values["COSMOS_ENDPOINT"], credential=values["COSMOS_KEY"], enable_endpoint_discovery=False
    )
    jobs = cosmos.get_database_client(values["COSMOS_DATABASE"]).get_container_client("jobs")
    deadline = time.monotonic() + timeout
    while True:
        rows = list(
            jobs.query_items("SELECT * FROM c WHERE c.docType = 'job'", enable_cross_partition_query=True)
        )
        open_jobs = [r for r in rows if r["status"] in ("queued", "running")]
        if (len(rows) >= expected and not open_jobs) or time.monotonic() > deadline:
            return rows
        time.sleep(5)


def busiest_minute(moments: list[float]) -> int:
    ordered = sorted(moments)
    return max((sum(1 for t in ordered if s <= t < s + 60) for s in ordered), default=0)


def report(
    args: argparse.Namespace,
    stacks: list[LocalStack],
    rows: list[dict[str, Any]],
    started: float,
    other_id: str,
    other_submitted: float,
) -> None:
    simulator_url = stacks[0].endpoints.simulator_url
    requests = httpx.get(f"{simulator_url}/_sim/requests", timeout=60).json()
    calls = [r for r in requests if r.get("kind") == "image" and r.get("model") == MODEL]
    refused = [r for r in calls if r.get("quotaRefused")]
    admitted = [r for r in calls if not r.get("quotaRefused")]
    statuses = Counter(r["status"] for r in rows)
    codes = Counter(r["error"]["code"] for r in rows if r.get("error"))
    ended = [datetime.fromisoformat(r["completedAt"]).timestamp() for r in rows if r.get("completedAt")]
    succeeded = [r for r in rows if r["status"] == "succeeded"]
    last = (
        max(datetime.fromisoformat(r["completedAt"]).timestamp() for r in succeeded) if succeeded else started
    )
    elapsed = last - started
    total = len(rows)
    allowed = total / args.per_minute * 60
    sliding = (math.ceil(total / args.per_minute) - 1) * 60
    print(
        f"jobs={total} hosts={args.hosts} schedule={'off' if args.no_schedule else 'on'} "
        f"quota={args.per_minute}/min statuses={dict(statuses)} error_codes={dict(codes)}"
    )
    print(
        f"provider image calls={len(calls)} refused={len(refused)} "
        f"({len(refused) / max(1, total):.1%} of the jobs) "
        f"busiest 60 s admitted={busiest_minute([r['quotaAdmittedAt'] for r in admitted])}"
    )
    print(
        f"last job succeeded after {elapsed:.0f} s; the quota allows {allowed:.0f} s "
        f"(ratio {elapsed / allowed:.3f}); a sliding minute at best {sliding:.0f} s "
        f"(ratio {elapsed / max(1.0, sliding):.3f}); last job ended after {max(ended) - started:.0f} s"
    )
    other = next((r for r in rows if r["id"] == other_id), None)
    other_calls = [r for r in admitted if r.get("prompt") == "the other tenant"]
    if other is not None and other_calls:
        called = other_calls[0]["quotaAdmittedAt"]
        waited = sum(
            1
            for r in admitted
            if r.get("prompt") != "the other tenant" and other_submitted < r["quotaAdmittedAt"] < called
        )
        print(
            f"second tenant: submitted {other_submitted - started:.0f} s into the burst, called after "
            f"{called - other_submitted:.0f} s, {waited} slot(s) of the first tenant in between; "
            f"{other['status']}"
        )
    elif other is not None:
        print(f"second tenant: submitted {other_submitted - started:.0f} s into the burst; {other['status']}")
    for stack in stacks:
        log = (stack.log_dir / "devhost.log").read_text()
        print(f"host {stack.endpoints.api_port}: {log.count('ended succeeded')} job(s) succeeded there")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--per-minute", type=int, default=30)
    parser.add_argument("--hosts", type=int, choices=(1, 2), default=1)
    parser.add_argument("--no-schedule", action="store_true", help="no PROVIDER_QUOTAS: today's behaviour")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    overrides = {
        "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.500",
        "DEFAULT_CREDIT_BALANCE": "1000000",
        "DEV_API_KEY_RATE_LIMIT": "1000000",
    }
    if not args.no_schedule:
        overrides["PROVIDER_QUOTAS"] = f"gemini/{MODEL}=rpm:{args.per_minute}"
    with bench_stack(overrides) as stack, bench_hosts(stack, args.hosts) as stacks:
        assert stack.endpoints.simulator_url
        httpx.post(
            f"{stack.endpoints.simulator_url}/_sim/config",
            json={"quotas": {MODEL: {"requestsPerMinute": args.per_minute}}},
            timeout=30,
        ).raise_for_status()
        other_key = second_tenant_key(stack.endpoints.api_url)
        started, ids, other_id, other_submitted = asyncio.run(
            submit_burst(stack.endpoints.api_url, args.jobs, other_key)
        )
        rows = wait_until_ended(stack.values, len(ids) + 1, args.timeout)
        report(args, stacks, rows, started, other_id, other_submitted)


if __name__ == "__main__":
    main()
