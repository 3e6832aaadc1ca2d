"""Submit latency, end-to-end time and throughput on the local stack (Azurite, Cosmos emulator, dev host,
simulator).

`python -m bench.submit_latency [--jobs 40] [--concurrency 8] [--provider-latency-ms 0]` starts its own
stack on free ports, submits jobs, polls them to the end, and prints latency percentiles and throughput.
With a provider latency, throughput is also shown against what the host's queue concurrency allows: one
instance runs at most `batchSize + newBatchThreshold` jobs at once (host.json), so it cannot finish more
than that many per provider latency. Emulators are not Azure: the figures compare versions of this code on
one machine; they do not predict production latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx

from bench.local_stack import bench_stack
from devtools.stack.stack import ROOT

KEY = "local-dev-key"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def run_job(client: httpx.AsyncClient, index: int, poll_seconds: float) -> tuple[float, float]:
    started = time.perf_counter()
    response = await client.post("/v1/images/generations", json={"prompt": f"benchmark image {index}"})
    response.raise_for_status()
    submitted = time.perf_counter() - started
    status_url = response.json()["statusQueryGetUri"]
    while True:
        polled = await client.get(status_url)
        if polled.status_code == 200:
            assert polled.json()["status"] == "succeeded", polled.text
            return submitted, time.perf_counter() - started
        await asyncio.sleep(poll_seconds)


def queue_batching() -> tuple[int, int]:
    """host.json's `batchSize` and `newBatchThreshold`."""
    queues = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]
    return int(queues["batchSize"]), int(queues["newBatchThreshold"])


def queue_concurrency() -> int:
    """Jobs one instance's queue trigger runs at once, as host.json configures it."""
    return sum(queue_batching())


async def drive(
    api_url: str, jobs: int, concurrency: int, provider_latency_ms: int, poll_seconds: float
) -> None:
    limits = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=api_url, headers={"X-API-Key": KEY}, timeout=120) as client:
        await run_job(client, -1, poll_seconds)  # warm-up: first-use client creation and lazy SDK import

        async def bounded(index: int) -> tuple[float, float]:
            async with limits:
                return await run_job(client, index, poll_seconds)

        wall = time.perf_counter()
        results = await asyncio.gather(*(bounded(i) for i in range(jobs)))
        wall = time.perf_counter() - wall
    submits = [r[0] * 1000 for r in results]
    totals = [r[1] * 1000 for r in results]
    print(f"jobs={jobs} concurrency={concurrency} wall={wall:.2f}s throughput={jobs / wall:.2f} jobs/s")
    if provider_latency_ms:
        bound = queue_concurrency() / (provider_latency_ms / 1000)
        print(
            f"provider latency {provider_latency_ms} ms: host queue concurrency allows {bound:.2f} jobs/s; "
            f"measured {jobs / wall:.2f} = {jobs / wall / bound:.0%} of it"
        )
    for name, values in (("submit (202) ms", submits), ("submit→succeeded ms", totals)):
        print(
            f"{name:<22} p50={statistics.median(values):8.1f} p95={percentile(values, 0.95):8.1f} "
            f"max={max(values):8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8, help="jobs submitted and polled at once")
    parser.add_argument("--provider-latency-ms", type=int, default=0, help="the simulator's delay per call")
    parser.add_argument("--poll-seconds", type=float, default=0.1, help="pause between status polls of a job")
    args = parser.parse_args()
    overrides = {
        "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.500",
        "DEFAULT_CREDIT_BALANCE": "1000000",
        "DEV_API_KEY_RATE_LIMIT": "1000000",
    }
    with bench_stack(overrides) as stack:
        if args.provider_latency_ms:
            httpx.post(
                f"{stack.endpoints.simulator_url}/_sim/config", json={"latencyMs": args.provider_latency_ms}
            )
        asyncio.run(
            drive(
                stack.endpoints.api_url,
                args.jobs,
                args.concurrency,
                args.provider_latency_ms,
                args.poll_seconds,
            )
        )


if __name__ == "__main__":
    main()
