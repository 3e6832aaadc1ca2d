"""One key, many concurrent requests: the per-key rate limit and the tenant's credit account under load.

`python -m bench.hot_counters [--route submit|status] [--requests 3000] [--concurrency 64] [--hosts 1|2]`
starts its own stack on free ports and sends `--requests` requests with the development key,
`--concurrency` at a time (spread over `--hosts` dev host processes, as over Function instances):

- `status`: `GET /api/v1/images/generations/{id}` of one job: every request counts against the key's
  rate-limit window (one counter document);
- `submit`: `POST /api/v1/images/generations`: every request counts against the window and reserves
  credits on the tenant's one account, while the worker settles the jobs that finish on that same
  account.

- `direct`: the counters alone, called from this process (no HTTP, no dev host): `--requests` counts of
  one rate-limit window, then `--requests` credit reservations on one tenant's account, then their
  settlements, `--concurrency` at a time, through the service's own functions (`RateLimiter.hit`,
  `reserve_credits`, `settle_credits`).

Meanwhile an anonymous route (`GET /api/openapi.json`) is sampled for comparison. It prints latency
percentiles, throughput and timeouts (no answer within `--timeout` s); requests not sent within
`--max-minutes` are left out (and counted). Then it checks the counters: the rate-limit count equals
the requests answered, and (submit) the account balances once the worker has drained the queue: `spent`
= the cost of the succeeded jobs, `reserved` = the cost of the unfinished ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections import Counter
from typing import Any

import httpx
from azure.cosmos import CosmosClient

from bench.local_stack import bench_hosts, bench_stack
from bench.submit_latency import percentile

KEY = "local-dev-key"
BALANCE = 10_000_000


async def drive(api_urls: list[str], args: argparse.Namespace) -> int:
    """Send the load; returns how many requests were answered (the rate limit counted them)."""
    limits = asyncio.Semaphore(args.concurrency)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    anonymous: list[float] = []
    done = asyncio.Event()
    stop_sending = time.monotonic() + args.max_minutes * 60
    async with httpx.AsyncClient(
        headers={"X-API-Key": KEY},
        timeout=args.timeout,
        limits=httpx.Limits(
            max_connections=args.concurrency + 4, max_keepalive_connections=args.concurrency + 4
        ),
    ) as client:
        first = await client.post(f"{api_urls[0]}/v1/images/generations", json={"prompt": "warm-up"})
        first.raise_for_status()
        status_path = f"/v1/images/generations/{first.json()['id']}"

        async def one(index: int) -> None:
            async with limits:
                if time.monotonic() > stop_sending:
                    statuses["not sent"] += 1
                    return
                base = api_urls[index % len(api_urls)]
                started = time.perf_counter()
                try:
                    if args.route == "submit":
                        response = await client.post(
                            f"{base}/v1/images/generations", json={"prompt": f"hot counters {index}"}
                        )
                    else:
                        response = await client.get(f"{base}{status_path}")
                    statuses[str(response.status_code)] += 1
                except httpx.TimeoutException:
                    statuses["timeout"] += 1
                    return
                latencies.append(time.perf_counter() - started)
                if len(latencies) % 500 == 0:
                    print(f"  {len(latencies)} answered", flush=True)

        async def sample_anonymous() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await client.get(f"{api_urls[0]}/openapi.json", headers={"X-API-Key": ""})
                anonymous.append(time.perf_counter() - started)
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample_anonymous())
        wall = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(args.requests)))
        wall = time.perf_counter() - wall
        done.set()
        await sampler
    print(
        f"route={args.route} hosts={len(api_urls)} requests={args.requests} concurrency={args.concurrency} "
        f"wall={wall:.1f}s "
        f"throughput={len(latencies) / wall:.1f} requests/s statuses={dict(statuses)}",
        flush=True,
    )
    if latencies:
        print(
            f"one key s: p50={statistics.median(latencies):.3f} p95={percentile(latencies, 0.95):.3f} "
            f"p99={percentile(latencies, 0.99):.3f} max={max(latencies):.3f}",
            flush=True,
        )
    if anonymous:
        print(
            f"anonymous route s: p50={statistics.median(anonymous):.3f} "
            f"p95={percentile(anonymous, 0.95):.3f} samples={len(anonymous)}",
            flush=True,
        )
    return len(latencies) + 1


async def drive_counters(args: argparse.Namespace) -> None:
    """The rate limiter and the credit ledger under `--concurrency` concurrent callers, in-process."""
    from shared.app_context import build_context
    from shared.credits.ledger import reserve_credits, settle_credits
    from shared.models.common import utc_now
    from shared.models.jobs import GenerationSpec, JobDocument, JobStatus
    from shared.settings import Settings

    context = build_context(Settings())
    limits = asyncio.Semaphore(args.concurrency)
    now = utc_now()

    def ended(index: int) -> JobDocument:
        return JobDocument(
            id=f"bench-{index}",
            tenant_id="bench",
            status=JobStatus.SUCCEEDED,
            spec=GenerationSpec(prompt="p", provider="gemini", model="m", aspect_ratio="1:1"),
            created_at=now,
            updated_at=now,
        )

    async def timed(operation: Any) -> float | None:
        async with limits:
            started = time.perf_counter()
            try:
                await asyncio.wait_for(operation, args.timeout)
            except TimeoutError:
                return None
            return time.perf_counter() - started

    steps = {
        "rate-limit count": lambda i: context.rate_limiter.hit("key:bench", 10_000_000),
        "credit reservation": lambda i: reserve_credits(context, "bench", f"bench-{i}", 1),
        "credit settlement": lambda i: settle_credits(context, ended(i)),
    }
    try:
        for name, step in steps.items():
            wall = time.perf_counter()
            results = await asyncio.gather(*(timed(step(i)) for i in range(args.requests)))
            wall = time.perf_counter() - wall
            latencies = [r for r in results if r is not None]
            print(
                f"{name}: {len(latencies)} in {wall:.1f}s ({len(latencies) / wall:.0f}/s), "
                f"timeouts={results.count(None)}, p50={statistics.median(latencies):.3f}s "
                f"p95={percentile(latencies, 0.95):.3f}s max={max(latencies):.3f}s",
                flush=True,
            )
        account = await context.credits.get("bench")
        print(
            f"account: balance={account.balance} reserved={account.reserved} spent={account.spent}",
            flush=True,
        )
    finally:
        await context.aclose()


def audit(values: dict[str, str], answered: int, route: str) -> None:
    """The counters afterwards, read from Cosmos DB (for submits, once the worker drained the queue)."""
    cosmos = CosmosClient(
        values["COSMOS_ENDPOINT"], credential=values["COSMOS_KEY"], enable_endpoint_discovery=False
    )
    database = cosmos.get_database_client(values["COSMOS_DATABASE"])
    counted = sum(
        int(doc.get("count", 0))
        for doc in database.get_container_client("rate-limits").query_items(
            "SELECT * FROM c", enable_cross_partition_query=True
        )
    )
    print(
        f"rate-limit count={counted} (requests answered with the key, warm-up included: {answered})",
        flush=True,
    )
    if route != "submit":
        return
    jobs = database.get_container_client("jobs")
    deadline = time.monotonic() + 900
    while True:
        rows = list(
            jobs.query_items(
                "SELECT c.status, c.credits FROM c WHERE c.tenantId = 'dev'", partition_key="dev"
            )
        )
        unfinished = [r for r in rows if r["status"] in ("queued", "running")]
        if not unfinished or time.monotonic() > deadline:
            break
        time.sleep(5)
    account = database.get_container_client("credits").read_item("balance", partition_key="dev")
    succeeded = sum(r["credits"] or 0 for r in rows if r["status"] == "succeeded")
    open_cost = sum(r["credits"] or 0 for r in rows if r["status"] in ("queued", "running"))
    print(
        f"jobs={len(rows)} unfinished={len(unfinished)} credits: spent={account['spent']} "
        f"(succeeded cost {succeeded}) reserved={account['reserved']} (unfinished cost {open_cost}) "
        f"balance_ok={account['balance'] == BALANCE - account['spent']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--route", choices=("submit", "status", "direct"), default="submit")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--max-minutes", type=float, default=15.0, help="stop sending new requests after")
    parser.add_argument("--hosts", type=int, choices=(1, 2), default=1)
    args = parser.parse_args()
    overrides = {
        "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.500",
        "DEFAULT_CREDIT_BALANCE": str(BALANCE),
        "DEV_API_KEY_RATE_LIMIT": "1000000",
        # A window longer than the run: one counter document takes every request.
        "RATE_LIMIT_WINDOW_SECONDS": "86400",
    }
    with bench_stack(overrides) as stack, bench_hosts(stack, args.hosts) as hosts:
        if args.route == "direct":
            os.environ.update(stack.values)
            asyncio.run(drive_counters(args))
            return
        answered = asyncio.run(drive([host.endpoints.api_url for host in hosts], args))
        audit(stack.values, answered, args.route)


if __name__ == "__main__":
    main()
