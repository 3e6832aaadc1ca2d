"""What one job costs the service: CPU of the dev host against the minimal pipeline, and data-plane calls.

`python -m bench.job_cost [--jobs 100] [--concurrency 8]` starts a stack whose app reaches Cosmos DB, Blob
and Queue storage through counting proxies (bench/call_counter.py), submits the jobs at zero provider
latency, waits (reading Cosmos DB directly, so waiting costs the app nothing) until each has succeeded and
has its thumbnail, and prints:

- the dev host's CPU per job (user + system time of its process: HTTP submit, worker, thumbnail) and the
  minimal pipeline's (bench/minimal_pipeline.py, the same SDKs against the same emulators), and their ratio;
- with `--provider-latency-ms` (and `--provider-latency-spread-ms`: each call's latency drawn uniformly
  within it), a throughput run instead (no proxies): the jobs a second (until the last job's stored
  `completedAt`) against the host's queue concurrency, against what its queue listener allows such
  latencies and against the minimal pipeline's two ceilings on the same stack (its jobs in the listener's
  batches, stored beforehand or submitted through a real queue: bench/minimal_pipeline.py), how fast they
  were submitted, how many provider calls were in flight (the simulator's `/_sim/stats`: mean and most) and
  how long one took, and the CPU per job of every process (the stack's and the bench's own) with how busy
  the machine's cores were: what limited it;
- the data-plane calls per job, by service, container and operation (the queue's idle polling is shown
  apart: it is paid per instance and second, not per job);
- with `--profile FILE`, how the dev host's samples split between the app's code (a stack through
  `shared/`), the Functions host's work the dev host does in process (HTTP server, RPC messages, queue
  listener: in Azure the host's own process), the worker library, and the rest (event-loop I/O callbacks
  and the like, not attributable to either), and so the app's own CPU per job as a range.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from azure.cosmos import CosmosClient

from bench.call_counter import CountingProxy, Proxies
from bench.invocation_phases import Phases, invocation_durations, invocation_phases
from bench.local_stack import bench_stack, machine_busy_seconds, process_cpu_seconds, tree_cpu_seconds
from bench.submit_latency import queue_batching, queue_concurrency
from devtools.simulator.state import SimulatorState
from devtools.stack.stack import AZURITE_ACCOUNT_KEY, ROOT, Endpoints, LocalStack

KEY = "local-dev-key"
OVERRIDES = {
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.500",
    "DEFAULT_CREDIT_BALANCE": "1000000",
    "DEV_API_KEY_RATE_LIMIT": "1000000",
}
PY_SPY = str(Path(sys.executable).parent / "py-spy")  # requirements-dev.txt installs it into the venv


def through_proxies(proxies: Proxies) -> Any:
    blob, queue, cosmos = proxies.proxies

    def route(values: dict[str, str], endpoints: Endpoints) -> None:
        blob.upstream = f"http://127.0.0.1:{endpoints.blob_port}"
        queue.upstream = f"http://127.0.0.1:{endpoints.queue_port}"
        cosmos.upstream = f"http://127.0.0.1:{endpoints.cosmos_port}"
        values["AzureWebJobsStorage"] = (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{blob.port}/devstoreaccount1;"
            f"QueueEndpoint=http://127.0.0.1:{queue.port}/devstoreaccount1;"
        )
        values["COSMOS_ENDPOINT"] = f"http://127.0.0.1:{cosmos.port}"

    return route


async def submit_all(api_url: str, jobs: int, concurrency: int) -> list[str]:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=api_url, headers={"X-API-Key": KEY}, timeout=60) as client:

        async def one(index: int) -> str:
            async with limit:
                response = await client.post("/v1/images/generations", json={"prompt": f"job cost {index}"})
                response.raise_for_status()
                return str(response.json()["id"])

        return await asyncio.gather(*(one(i) for i in range(jobs)))


def wait_until_done(
    stack: LocalStack, endpoints: Endpoints, ids: list[str], thumbnails: bool, timeout: float = 600
) -> float:
    """Wait until every job succeeded (and, with thumbnails, has them); returns when the last job ended, as
    the service stored it (`completedAt`, in seconds since the epoch): the wait's own polling interval is
    no part of the service's time."""
    settings = stack.settings
    assert settings.cosmos_key
    with CosmosClient(
        f"http://127.0.0.1:{endpoints.cosmos_port}",
        credential=settings.cosmos_key.get_secret_value(),
        enable_endpoint_discovery=False,
    ) as cosmos:
        container = cosmos.get_database_client(settings.cosmos_database).get_container_client("jobs")
        pending, deadline, last_ended = set(ids), time.monotonic() + timeout, 0.0
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} job(s) not done"
            # One query a round, not a read per job: the waiting must not load the machine it measures.
            jobs = container.query_items(
                "SELECT c.id, c.status, c.outputs, c.completedAt FROM c WHERE c.tenantId = 'dev'",
                partition_key="dev",
            )
            for job in jobs:
                if job["id"] not in pending:
                    continue
                assert job["status"] not in ("failed", "canceled"), job
                made = not thumbnails or all(o.get("thumbnailBlobName") for o in job["outputs"])
                if job["status"] == "succeeded" and made:
                    pending.discard(job["id"])
                    ended = datetime.fromisoformat(job["completedAt"]).timestamp()
                    last_ended = max(last_ended, ended)
            time.sleep(0.5)
    return last_ended


def run_jobs(
    stack: LocalStack, endpoints: Endpoints, jobs: int, concurrency: int, thumbnails: bool
) -> tuple[list[str], float, float]:
    """Submit and wait for the jobs; their ids, and when all were submitted and when the last one ended
    (its stored `completedAt`; with thumbnails, when the wait saw the last one made), on the clock of
    `time.perf_counter()`."""
    ids = asyncio.run(submit_all(stack.endpoints.api_url, jobs, concurrency))
    submitted = time.perf_counter()
    last_ended = wait_until_done(stack, endpoints, ids, thumbnails)
    seen, now = time.perf_counter(), time.time()
    return ids, submitted, seen if thumbnails else seen - (now - last_ended)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", metavar="FILE", help="record the dev host with py-spy (speedscope JSON)")
    parser.add_argument(
        "--without-thumbnails", action="store_true", help="disable the thumbnail function: the job path alone"
    )
    parser.add_argument(
        "--provider-latency-ms", type=int, default=0, help="the simulator's delay per call (throughput runs)"
    )
    parser.add_argument(
        "--provider-latency-spread-ms",
        type=int,
        default=0,
        help="a throughput run: each call's delay drawn uniformly within this of --provider-latency-ms",
    )
    parser.add_argument("--without-telemetry", action="store_true", help="no local telemetry export")
    parser.add_argument("--keep-log", metavar="FILE", help="a throughput run: copy the dev host's log here")
    args = parser.parse_args()
    overrides = dict(OVERRIDES)
    if args.without_thumbnails:
        overrides["AzureWebJobs.make_thumbnail.Disabled"] = "true"
    if args.without_telemetry:
        overrides["TELEMETRY_FILES_DIRECTORY"] = ""
    thumbnails = not args.without_thumbnails
    if args.provider_latency_spread_ms and not args.provider_latency_ms:
        parser.error("--provider-latency-spread-ms spreads --provider-latency-ms: give both")
    if args.provider_latency_ms:
        if args.profile:
            parser.error("--profile records a cost run: leave out --provider-latency-ms")
        run = measure_throughput(args, overrides, thumbnails)
        print(f"jobs={args.jobs} concurrency={args.concurrency}, thumbnails {'on' if thumbnails else 'off'}")
        report_throughput(run, args.provider_latency_ms, args.provider_latency_spread_ms)
        return
    proxies = Proxies([CountingProxy("blob", ""), CountingProxy("queue", ""), CountingProxy("cosmos", "")])
    proxies.start()
    with bench_stack(overrides, route=through_proxies(proxies)) as stack:
        endpoints = stack.endpoints
        devhost = stack.process("devhost").process
        assert devhost is not None
        run_jobs(stack, endpoints, 5, 1, thumbnails)  # warm-up: clients, first-use imports, containers

        # Idle polling of the queue listeners, per second, to tell it apart from the jobs' own calls.
        proxies.reset()
        idle_started = time.perf_counter()
        time.sleep(10)
        idle = Counter({k: v / (time.perf_counter() - idle_started) for k, v in proxies.counts().items()})

        proxies.reset()
        profiler = (
            subprocess.Popen(
                [PY_SPY, "record", "--pid", str(devhost.pid), "--format", "speedscope", "--output",
                 args.profile, "--rate", "200", "--nonblocking"],
            )
            if args.profile
            else None
        )  # fmt: skip
        cpu, wall = process_cpu_seconds(devhost.pid), time.perf_counter()
        run_jobs(stack, endpoints, args.jobs, args.concurrency, thumbnails)
        time.sleep(2)  # the last thumbnails' writes
        cpu, wall = process_cpu_seconds(devhost.pid) - cpu, time.perf_counter() - wall
        if profiler is not None:
            profiler.send_signal(2)
            profiler.wait(30)
        calls = proxies.counts()
        shares = profile_shares(args.profile) if args.profile else None

        minimal = json.loads(
            subprocess.run(
                [sys.executable, "-m", "bench.minimal_pipeline", "--jobs", str(args.jobs),
                 "--concurrency", str(args.concurrency)],
                env={**os.environ, **stack.values,
                     "COSMOS_ENDPOINT": f"http://127.0.0.1:{endpoints.cosmos_port}"},
                cwd=ROOT, capture_output=True, text=True, check=True,
            ).stdout
        )  # fmt: skip
    report(args, cpu, wall, calls, idle, minimal)
    if shares is not None:
        per_job, minimal_per_job = cpu / args.jobs, minimal["cpu_seconds_per_job"]
        print("profile samples: " + ", ".join(f"{name} {share:.1%}" for name, share in shares.items()))
        low, high = per_job * shares["app"], per_job * (shares["app"] + shares["other"])
        print(
            f"the app's own CPU per job: {low * 1000:.1f} to {high * 1000:.1f} ms = "
            f"{low / minimal_per_job:.2f}x to {high / minimal_per_job:.2f}x the minimal pipeline"
        )


def profile_shares(path: str) -> dict[str, float]:
    """The share of py-spy's samples whose stack runs through the app, the dev host, the worker library or
    none of them."""
    profile = json.loads(Path(path).read_text())
    files = [frame.get("file", "") for frame in profile["shared"]["frames"]]
    counts: Counter[str] = Counter()
    for thread in profile["profiles"]:
        for sample, weight in zip(thread["samples"], thread["weights"], strict=True):
            stack = [files[index] for index in sample]
            if not stack:
                continue
            if any("/shared/" in file or file.endswith("function_app.py") for file in stack):
                counts["app"] += weight
            elif any("azure_functions_runtime" in file or "azure/functions" in file for file in stack):
                counts["worker library"] += weight
            elif any("devtools/devhost" in file for file in stack):
                counts["dev host"] += weight
            else:
                counts["other"] += weight
    total = sum(counts.values())
    return {name: counts[name] / total for name in ("app", "dev host", "worker library", "other")}


def report(
    args: argparse.Namespace,
    cpu: float,
    wall: float,
    calls: Counter[str],
    idle: Counter[str],
    minimal: dict[str, float],
) -> None:
    per_job = cpu / args.jobs
    parts = "submit, worker" + ("" if args.without_thumbnails else ", thumbnail")
    telemetry = "off" if args.without_telemetry else "on (file export)"
    print(f"jobs={args.jobs} concurrency={args.concurrency} wall={wall:.1f}s telemetry {telemetry}")
    print(f"dev host CPU per job:        {per_job * 1000:7.1f} ms ({parts})")
    print(f"minimal pipeline CPU per job: {minimal['cpu_seconds_per_job'] * 1000:7.1f} ms")
    print(f"ratio:                        {per_job / minimal['cpu_seconds_per_job']:7.2f}x")
    polling = {name: idle[name] * wall for name in idle}
    print("data-plane calls per job (idle polling of the run's duration subtracted):")
    total = 0.0
    for name in sorted(calls):
        count = max(0.0, calls[name] - polling.get(name, 0.0)) / args.jobs
        if count >= 0.01:
            total += count
            print(f"  {name:<40} {count:6.2f}")
    print(f"  {'total':<40} {total:6.2f}")
    print("idle polling, calls per second: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(idle.items())))


def measure_throughput(args: argparse.Namespace, overrides: dict[str, str], thumbnails: bool) -> Run:
    """A throughput run goes to the emulators directly: the counting proxies' extra hop and their CPU (a
    Python process forwarding every call, on the machine the stack runs on) would be measured with it."""
    with bench_stack(overrides) as stack:
        endpoints = stack.endpoints
        run_jobs(stack, endpoints, 5, 1, thumbnails)  # warm-up: clients, first-use imports, containers
        simulator = endpoints.simulator_url
        latency = {
            "latencyMs": args.provider_latency_ms,
            "latencySpreadMs": args.provider_latency_spread_ms,
            "seed": 0,  # the same draws in every run
        }
        httpx.post(f"{simulator}/_sim/config", json=latency).raise_for_status()
        httpx.delete(f"{simulator}/_sim/requests").raise_for_status()  # and its call statistics
        processes = {p.name: p.process.pid for p in stack.processes if p.process is not None}
        cpu = stack_cpu_seconds(processes)
        machine, started = machine_busy_seconds(), time.perf_counter()
        ids, submitted, done = run_jobs(stack, endpoints, args.jobs, args.concurrency, thumbnails)
        busy, total = machine_busy_seconds()
        provider = httpx.get(f"{simulator}/_sim/stats").json()
        calls = httpx.get(f"{simulator}/_sim/requests", timeout=60).json()
        log = (stack.log_dir / "devhost.log").read_text()
        if args.keep_log:
            Path(args.keep_log).write_text(log)
        phases = invocation_phases(
            log,
            set(ids),
            call_seconds=provider["callSeconds"] / provider["answered"],
        )
        machine_cpu = {name: seconds - cpu[name] for name, seconds in stack_cpu_seconds(processes).items()}
        batch, threshold = queue_batching()
        ceiling = json.loads(
            subprocess.run(
                [sys.executable, "-m", "bench.minimal_pipeline", "--jobs", str(args.jobs),
                 "--concurrency", str(args.concurrency), "--batch-size", str(batch),
                 "--new-batch-threshold", str(threshold)],
                env={**os.environ, **stack.values}, cwd=ROOT, capture_output=True, text=True, check=True,
            ).stdout
        )  # fmt: skip
        return Run(
            jobs=args.jobs,
            submit_seconds=submitted - started,
            seconds=done - started,
            provider=provider,
            phases=phases,
            cpu=machine_cpu,
            machine_busy=(busy - machine[0]) / (total - machine[1]),
            latencies=[call["latencyMs"] / 1000 for call in calls if "latencyMs" in call],
            invocations=invocation_durations(log, args.jobs),
            minimal_jobs_per_second=ceiling["jobs_per_second"],
            minimal_queued_jobs_per_second=ceiling["queued_jobs_per_second"],
        )


def stack_cpu_seconds(processes: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each process of the stack (with its children) and of the bench itself (submitting
    and waiting; its children are the stack's processes)."""
    seconds = {name: tree_cpu_seconds(pid) for name, pid in processes.items()}
    seconds["bench (submitting, waiting)"] = process_cpu_seconds(os.getpid())
    return seconds


@dataclass
class Run:
    """One throughput run: how long submitting and finishing took, the simulator's call statistics, the CPU
    seconds of each process (the stack's and the bench's own), the share of the machine's cores busy, the
    calls' latencies and the invocations' durations."""

    jobs: int
    submit_seconds: float
    seconds: float
    provider: dict[str, float]
    phases: Phases
    cpu: dict[str, float]
    machine_busy: float
    latencies: list[float]  # of the provider calls, as the simulator drew them, in the order they came
    invocations: list[float]  # the dev host's durations of the jobs' invocations, in the order they started
    # The minimal pipeline's jobs in the listener's batches on the same stack, what the machine allows: its
    # documents stored beforehand, and submitted through a real queue as the run's jobs are.
    minimal_jobs_per_second: float
    minimal_queued_jobs_per_second: float


def listener_bound(latencies: list[float], batch: int, threshold: int) -> float:
    """Jobs a second the Functions host's queue listener allows for invocations taking `latencies` seconds
    (in the order they are fetched), all queued at the start: it fetches a batch of `batch` messages
    whenever at most `threshold` of its invocations still run (so a batch whose invocations end together
    is followed by one batch, not by `batch + threshold` in flight)."""
    now, fetched, running = 0.0, 0, list[float]()
    while fetched < len(latencies) or running:
        if fetched < len(latencies) and len(running) <= threshold:
            running += [now + seconds for seconds in latencies[fetched : fetched + batch]]
            fetched = min(fetched + batch, len(latencies))
            continue
        now = min(running)
        running = [end for end in running if end > now]
    return len(latencies) / now


def spread_listener_bound(
    jobs: int, latency_ms: int, spread_ms: int, batch: int, threshold: int, *, samples: int = 500
) -> tuple[float, float]:
    """The mean and standard deviation of `listener_bound` over `samples` seeded draws of `jobs` latencies,
    each uniform within `spread_ms` of `latency_ms` (never below 0), drawn as the simulator draws them."""
    simulator = SimulatorState(latency_ms=latency_ms, latency_spread_ms=spread_ms, latency_seed=0)

    def draws() -> list[float]:
        return [simulator.call_latency_ms() / 1000 for _ in range(jobs)]

    bounds = [listener_bound(draws(), batch, threshold) for _ in range(samples)]
    return statistics.fmean(bounds), statistics.stdev(bounds)


def report_throughput(run: Run, latency_ms: int, spread_ms: int) -> None:
    concurrency = queue_concurrency()
    bound, rate = concurrency / (latency_ms / 1000), run.jobs / run.seconds
    provider = run.provider
    batch, threshold = queue_batching()
    listener = listener_bound([latency_ms / 1000] * run.jobs, batch, threshold)
    latency = f"{latency_ms} ± {spread_ms} ms" if spread_ms else f"{latency_ms} ms"
    print(
        f"throughput at {latency} provider latency: {rate:.2f} jobs/s in {run.seconds:.1f} s = "
        f"{rate / bound:.0%} of the {bound:.2f} jobs/s that {concurrency} in flight (the host's queue "
        f"concurrency) allow, {rate / listener:.0%} of the {listener:.2f} jobs/s its listener allows "
        f"{run.jobs} jobs of exactly {latency_ms} ms (a batch of {batch} whenever at most {threshold} run)"
    )
    if spread_ms:
        mean, deviation = spread_listener_bound(run.jobs, latency_ms, spread_ms, batch, threshold)
        drawn = listener_bound(run.latencies, batch, threshold)
        print(
            f"  its listener allows {run.jobs} jobs of {latency} (uniform) {mean:.2f} jobs/s (the mean of "
            f"500 seeded draws, sd {deviation:.2f}), {drawn:.2f} jobs/s for this run's {len(run.latencies)} "
            f"draws: the run reached {rate / mean:.0%} and {rate / drawn:.0%}"
        )
    invoked = listener_bound(run.invocations, batch, threshold)
    print(
        f"  its listener allows the {len(run.invocations)} invocations as long as they took {invoked:.2f} "
        f"jobs/s: the run reached {rate / invoked:.0%} of that (the rest: its deletes and fetches, the first "
        "fetch)"
    )
    minimal, queued = run.minimal_jobs_per_second, run.minimal_queued_jobs_per_second
    print(
        f"  the minimal pipeline's {run.jobs} jobs in the listener's batches on this stack: stored "
        f"beforehand, {minimal:.2f} jobs/s = {minimal / listener:.0%} of the listener's bound; submitted "
        f"as the run's are and through a queue, {queued:.2f} jobs/s = {queued / listener:.0%} "
        f"(no HTTP, worker, claim or credits): the run reached {rate / minimal:.0%} and {rate / queued:.0%}"
    )
    print(f"  submitted at {run.jobs / run.submit_seconds:.1f} jobs/s (all in {run.submit_seconds:.1f} s)")
    print(
        f"  provider calls in flight: mean {provider['callSeconds'] / run.seconds:.1f}, "
        f"most {provider['maxInFlight']}; a call took {provider['callSeconds'] / provider['answered']:.2f} s"
    )
    total = sum(run.cpu.values())
    print(
        f"  CPU per job {total / run.jobs * 1000:.0f} ms ("
        + ", ".join(f"{name} {seconds / run.jobs * 1000:.0f}" for name, seconds in sorted(run.cpu.items()))
        + f"): {total / run.seconds:.2f} cores; the machine's cores were {run.machine_busy:.0%} busy"
    )
    phases = run.phases
    named = sum((phases.admission_and_claim, phases.before_call, phases.answer_to_end, phases.settlement))
    print(
        f"  one invocation (median of {phases.jobs}): {phases.invocation:.2f} s = the call "
        f"{provider['callSeconds'] / provider['answered']:.2f} s + admission and claim "
        f"{phases.admission_and_claim:.3f} s + before the call {phases.before_call:.3f} s + answer to the "
        f"terminal write {phases.answer_to_end:.3f} s + settlement {phases.settlement:.3f} s + the rest "
        f"(the worker's RPC and the trigger's start) "
        f"{phases.invocation - named - provider['callSeconds'] / provider['answered']:.3f} s"
    )


if __name__ == "__main__":
    main()
