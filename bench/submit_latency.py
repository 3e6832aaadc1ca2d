"""Submit latency and end-to-end time on the local stack (Azurite, Cosmos emulator, dev host, simulator).

`python -m bench.submit_latency [--jobs 40] [--concurrency 8]` starts its own stack on free ports, submits
jobs, polls them to the end, and prints latency percentiles. Emulators are not Azure: the figures compare
versions of this code on one machine; they do not predict production latency.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

from bench.local_stack import bench_stack

KEY = "local-dev-key"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def run_job(client: httpx.AsyncClient, index: int) -> tuple[float, float]:
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
        await asyncio.sleep(0.1)


async def drive(api_url: str, jobs: int, concurrency: int) -> None:
    limits = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=api_url, headers={"X-API-Key": KEY}, timeout=120) as client:
        await run_job(client, -1)  # warm-up: first-use client creation and lazy SDK import

        async def bounded(index: int) -> tuple[float, float]:
            async with limits:
                return await run_job(client, index)

        wall = time.perf_counter()
        results = await asyncio.gather(*(bounded(i) for i in range(jobs)))
        wall = time.perf_counter() - wall
    submits = [r[0] * 1000 for r in results]
    totals = [r[1] * 1000 for r in results]
    print(f"jobs={jobs} concurrency={concurrency} wall={wall:.2f}s throughput={jobs / wall:.2f} jobs/s")
    for name, values in (("submit (202) ms", submits), ("submit→succeeded ms", totals)):
        print(
            f"{name:<22} p50={statistics.median(values):8.1f} p95={percentile(values, 0.95):8.1f} "
            f"max={max(values):8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    overrides = {"AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.500"}
    with bench_stack(overrides) as stack:
        asyncio.run(drive(stack.endpoints.api_url, args.jobs, args.concurrency))


if __name__ == "__main__":
    main()
