"""The least a generation job can cost: the yardstick of bench/job_cost.py.

`python -m bench.minimal_pipeline --jobs N --concurrency C` (run by job_cost against its stack, with the
stack's settings in the environment) does, per job, what any implementation must: one provider call with
the real SDK (google-genai against the simulator), one blob upload and two Cosmos DB writes (the job stored,
then its result), with the same async SDK clients the app uses, set up as the app sets them up (no proxy
configured: the environment is not read on every request). It prints its own CPU seconds per job.

With `--batch-size B --new-batch-threshold T` it gives the ceilings of a throughput run instead, the jobs
started as the host's queue listener starts invocations (`B` at a time, a next batch once at most `T`
still run), in jobs a second: `jobs_per_second` with the job documents stored first (untimed) and no
queue, HTTP or worker in between; `queued_jobs_per_second` timed from the first submit, each job stored
and its message queued while a listener fetches the messages from a real queue and deletes each after
its job (still no HTTP, worker, claim, credits or rate limit).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
from azure.core.exceptions import ResourceExistsError
from azure.core.pipeline.transport import AioHttpTransport
from azure.cosmos.aio import ContainerProxy, CosmosClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient
from google import genai
from google.genai import types

from shared.settings import Settings


def job_document() -> dict[str, str]:
    return {"id": str(uuid.uuid4()), "tenantId": "minimal", "docType": "job", "status": "running"}


async def one_job(
    index: int,
    client: genai.Client,
    blobs: BlobServiceClient,
    jobs: ContainerProxy,
    settings: Settings,
    stored: dict[str, str] | None = None,
) -> None:
    document = stored or await jobs.create_item(job_document())
    job_id = document["id"]
    response = await client.aio.models.generate_content(
        model=settings.gemini_models[0],
        contents=f"minimal pipeline image {index}",
        config=types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"]),
    )
    content = response.candidates[0].content if response.candidates else None
    parts = content.parts if content else []
    data = next(p.inline_data.data for p in parts or [] if p.inline_data and p.inline_data.data)
    name = f"images/minimal/{job_id}-0.png"
    await blobs.get_blob_client(settings.images_container, name).upload_blob(data, overwrite=True)
    await jobs.replace_item(job_id, {**document, "status": "succeeded", "outputs": [name]})


Job = Coroutine[Any, Any, None]


async def in_listener_batches(
    count: int, batch: int, threshold: int, fetch: Callable[[int], Coroutine[Any, Any, list[Job]]]
) -> None:
    """Run `count` jobs as the host's queue listener runs invocations: whenever at most `threshold` run,
    it fetches up to `batch` more (`fetch(batch)`, the jobs to start; none yet: it asks again 0.1 s later,
    the host's shortest polling interval)."""
    done, running = 0, set[asyncio.Task[None]]()
    while done < count:
        if len(running) <= threshold:
            fetched = await fetch(batch)
            if fetched:
                running |= {asyncio.create_task(job) for job in fetched}
                continue
            if not running:
                await asyncio.sleep(0.1)
                continue
        timeout = 0.1 if len(running) <= threshold else None
        finished, running = await asyncio.wait(running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            task.result()
        done += len(finished)


def fetched_in_order(jobs: list[Job]) -> Callable[[int], Coroutine[Any, Any, list[Job]]]:
    """A `fetch` for jobs all queued at the start, handed out in order."""
    pending = list(reversed(jobs))

    async def fetch(batch: int) -> list[Job]:
        return [pending.pop() for _ in range(min(batch, len(pending)))]

    return fetch


async def through_queue(
    count: int,
    concurrency: int,
    batching: tuple[int, int],
    queue: QueueClient,
    run_job: Callable[[int, dict[str, str]], Job],
    store: Callable[[], Coroutine[Any, Any, dict[str, str]]],
) -> float:
    """Seconds for `count` jobs submitted `concurrency` at a time (each stored, then its message queued)
    while a listener fetches their messages from `queue` in the host's batches (`in_listener_batches`)
    and deletes each message after its job."""
    limit = asyncio.Semaphore(concurrency)

    async def submit(index: int) -> None:
        async with limit:
            document = await store()
            await queue.send_message(json.dumps({"index": index, "job": document}))

    async def invoke(message: QueueMessage) -> None:
        body = json.loads(message.content)
        await run_job(body["index"], body["job"])
        await queue.delete_message(message)

    async def fetch(batch: int) -> list[Job]:
        pages = queue.receive_messages(messages_per_page=batch, max_messages=batch)
        return [invoke(message) async for message in pages]

    started = time.perf_counter()
    await asyncio.gather(in_listener_batches(count, *batching, fetch), *(submit(i) for i in range(count)))
    return time.perf_counter() - started


async def run(jobs_count: int, concurrency: int, batching: tuple[int, int] | None) -> dict[str, float]:
    settings = Settings()
    assert settings.gemini_api_key and settings.storage_connection_string and settings.cosmos_key
    session = aiohttp.ClientSession(trust_env=False)
    client = genai.Client(
        api_key=settings.gemini_api_key.get_secret_value(),
        http_options=types.HttpOptions(base_url=settings.gemini_base_url, aiohttp_client=session),
    )
    async with (
        session,
        BlobServiceClient.from_connection_string(
            settings.storage_connection_string.get_secret_value(), use_env_settings=False
        ) as blobs,
        CosmosClient(
            settings.cosmos_endpoint,
            credential=settings.cosmos_key.get_secret_value(),
            enable_endpoint_discovery=False,
            transport=AioHttpTransport(use_env_settings=False),
        ) as cosmos,
    ):
        jobs = cosmos.get_database_client(settings.cosmos_database).get_container_client("jobs")
        for index in range(3):  # warm-up: connections, first-use imports
            await one_job(-index - 1, client, blobs, jobs, settings)
        if batching is not None:

            async def stored_job() -> dict[str, str]:
                return dict(await jobs.create_item(job_document()))

            limit = asyncio.Semaphore(concurrency)

            async def store() -> dict[str, str]:
                async with limit:
                    return await stored_job()

            stored = await asyncio.gather(*(store() for _ in range(jobs_count)))
            wall = time.perf_counter()
            runs = [one_job(i, client, blobs, jobs, settings, document) for i, document in enumerate(stored)]
            await in_listener_batches(jobs_count, *batching, fetched_in_order(runs))
            wall = time.perf_counter() - wall
            async with QueueClient.from_connection_string(
                settings.storage_connection_string.get_secret_value(),
                "minimal-pipeline",
                use_env_settings=False,
            ) as queue:
                with contextlib.suppress(ResourceExistsError):
                    await queue.create_queue()
                await queue.clear_messages()
                queued = await through_queue(
                    jobs_count,
                    concurrency,
                    batching,
                    queue,
                    lambda i, document: one_job(i, client, blobs, jobs, settings, document),
                    stored_job,
                )
            return {
                "jobs_per_second": jobs_count / wall,
                "wall_seconds": wall,
                "queued_jobs_per_second": jobs_count / queued,
            }
        limit = asyncio.Semaphore(concurrency)

        async def bounded(index: int) -> None:
            async with limit:
                await one_job(index, client, blobs, jobs, settings)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(bounded(i) for i in range(jobs_count)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu_seconds_per_job": cpu / jobs_count, "wall_seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, help="a throughput ceiling: jobs in the listener's batches")
    parser.add_argument("--new-batch-threshold", type=int, default=8)
    args = parser.parse_args()
    batching = (args.batch_size, args.new_batch_threshold) if args.batch_size else None
    print(json.dumps(asyncio.run(run(args.jobs, args.concurrency, batching))))


if __name__ == "__main__":
    main()
