"""The least a generation job can cost: the yardstick of bench/job_cost.py.

`python -m bench.minimal_pipeline --jobs N --concurrency C` (run by job_cost against its stack, with the
stack's settings in the environment) does, per job, what any implementation must: one provider call with
the real SDK (google-genai against the simulator), one blob upload and two Cosmos DB writes (the job stored,
then its result), with the same async SDK clients the app uses. It prints its own CPU seconds per job.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

from azure.cosmos.aio import ContainerProxy, CosmosClient
from azure.storage.blob.aio import BlobServiceClient
from google import genai
from google.genai import types

from shared.settings import Settings


async def one_job(
    index: int, client: genai.Client, blobs: BlobServiceClient, jobs: ContainerProxy, settings: Settings
) -> None:
    job_id = str(uuid.uuid4())
    document = {"id": job_id, "tenantId": "minimal", "docType": "job", "status": "running"}
    await jobs.create_item(document)
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


async def run(jobs_count: int, concurrency: int) -> dict[str, float]:
    settings = Settings()
    assert settings.gemini_api_key and settings.storage_connection_string and settings.cosmos_key
    client = genai.Client(
        api_key=settings.gemini_api_key.get_secret_value(),
        http_options=types.HttpOptions(base_url=settings.gemini_base_url),
    )
    async with (
        BlobServiceClient.from_connection_string(
            settings.storage_connection_string.get_secret_value()
        ) as blobs,
        CosmosClient(
            settings.cosmos_endpoint,
            credential=settings.cosmos_key.get_secret_value(),
            enable_endpoint_discovery=False,
        ) as cosmos,
    ):
        jobs = cosmos.get_database_client(settings.cosmos_database).get_container_client("jobs")
        for index in range(3):  # warm-up: connections, first-use imports
            await one_job(-index - 1, client, blobs, jobs, settings)
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
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.jobs, args.concurrency))))


if __name__ == "__main__":
    main()
