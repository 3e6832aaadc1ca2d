"""Idle CPU of the local stack with many blobs stored (the Event Grid emulation's cost).

`python -m bench.idle_cpu [--blobs 600] [--seconds 30]` starts its own stack on free ports (timers off),
writes `--blobs` images under the watched prefix of the images container (each the size of a small PNG,
each published as BlobCreated and ignored by the thumbnail function: no such job), lets the deliveries
settle, then measures the CPU time every stack process uses over `--seconds` of idleness and prints it
per process and as a share of one core.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime

from azure.storage.blob import BlobServiceClient

from bench.local_stack import bench_stack, process_cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.idle_cpu")
    parser.add_argument("--blobs", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=15.0)
    args = parser.parse_args()
    with bench_stack({}) as stack:
        blobs = BlobServiceClient.from_connection_string(stack.values["AzureWebJobsStorage"])
        container = blobs.get_container_client(stack.values["IMAGES_CONTAINER"])
        day = f"{datetime.now(UTC):%Y-%m-%d}"
        started = time.perf_counter()
        for _ in range(args.blobs):
            container.upload_blob(f"images/bench/{day}/{uuid.uuid4()}-0.png", os.urandom(2048))
        print(f"wrote {args.blobs} blobs in {time.perf_counter() - started:.1f}s; settling {args.settle}s")
        time.sleep(args.settle)
        processes = [(p.name, p.process.pid) for p in stack.processes if p.process is not None]
        before = {name: process_cpu_seconds(pid) for name, pid in processes}
        time.sleep(args.seconds)
        after = {name: process_cpu_seconds(pid) for name, pid in processes}
    total = 0.0
    for name, _ in processes:
        used = after[name] - before[name]
        total += used
        print(f"{name:16} {used:6.2f} s CPU  {100 * used / args.seconds:5.1f} % of a core")
    print(f"{'all':16} {total:6.2f} s CPU  {100 * total / args.seconds:5.1f} % of a core")


if __name__ == "__main__":
    main()
