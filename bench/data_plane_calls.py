"""The data-plane calls one job makes, counted call by call: Cosmos DB (per container and operation),
Storage Queue messages, Blob Storage operations.

`python -m bench.data_plane_calls` runs the service's own code (submit, worker, thumbnail) on the
in-memory stores the unit tests use, which count every SDK call the code makes, for a job's life:

- the submit (the rate-limit count, the job, its credit hold, its message), one worker run, the
  end-of-job work and the thumbnail of its one image;
- the same job of a model with a declared quota that gets its slot at once;
- one that waits for its slot once first;
- a status poll.

The Functions host's own queue calls (receiving a message, deleting it once processed) and Event Grid's
delivery are not in the code; docs/capacity.md adds them. Printed as a table, with the size of the job
document (which, with the operation, decides a call's request units).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from shared.images.thumbnails import BLOB_CREATED, process_blob_created
from shared.jobs.service import get_job, job_view, submit_generation
from shared.jobs.worker import process_job
from shared.models.events import BlobCreatedData
from shared.models.jobs import GenerationRequest, JobDocument
from shared.models.messages import JobMessage
from tests.fakes.context import FakeWorld, fake_world
from tests.fakes.cosmos import FakeContainer
from tests.fakes.storage import FakeImageStore

TENANT = "tenant-a"
MODEL = "gemini/gemini-2.5-flash-image"


class CountingImageStore(FakeImageStore):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    async def upload(self, container: str, blob_name: str, data: bytes, **options: Any) -> None:
        self.calls["upload"] += 1
        await super().upload(container, blob_name, data, **options)

    async def read(self, container: str, blob_name: str) -> Any:
        self.calls["download"] += 1
        return await super().read(container, blob_name)

    async def download(self, container: str, blob_name: str) -> bytes | None:
        self.calls["download"] += 1
        return await super().download(container, blob_name)

    async def delete(self, container: str, blob_name: str) -> bool:
        self.calls["delete"] += 1
        return await super().delete(container, blob_name)


def world_with_counting_images(**settings: str) -> tuple[FakeWorld, CountingImageStore]:
    world = fake_world(**settings)
    images = CountingImageStore()
    object.__setattr__(world.ctx, "images", images)
    world.images = images
    return world, images


def containers(world: FakeWorld) -> dict[str, FakeContainer]:
    ctx: Any = world.ctx
    return {
        "jobs": world.jobs,
        "credits": world.credits,
        "rate-limits": ctx.rate_limiter._container,
        "quotas": world.quotas,
    }


def snapshot(world: FakeWorld, images: CountingImageStore) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name, container in containers(world).items():
        for call, number in container.calls.items():
            counts[f"cosmos {name} {call}"] += number
    counts["queue messages sent"] = len(world.job_queue.sent) + len(world.webhook_queue.sent)
    for call, number in images.calls.items():
        counts[f"blob {call}"] += number
    return counts


async def one_job(world: FakeWorld, images: CountingImageStore) -> dict[str, Counter[str]]:
    """A tenant's job (not its first: the credit account is open), phase by phase."""
    await world.ctx.rate_limiter.hit("key:bench", 1_000_000)
    await submit_generation(world.ctx, TENANT, GenerationRequest.model_validate({"prompt": "warm-up"}))
    for message in [JobMessage.model_validate_json(m.content) for m in world.job_queue.take()]:
        await process_job(world.ctx, message)
    _let_the_minute_pass(world)
    phases: dict[str, Counter[str]] = {}
    before = snapshot(world, images)
    await world.ctx.rate_limiter.hit("key:bench", 1_000_000)
    job = await submit_generation(
        world.ctx, TENANT, GenerationRequest.model_validate({"prompt": "a red square"})
    )
    phases["submit"] = snapshot(world, images) - before
    before = snapshot(world, images)
    for message in [JobMessage.model_validate_json(m.content) for m in world.job_queue.take()]:
        await process_job(world.ctx, message)
    phases["worker run and end of job"] = snapshot(world, images) - before
    stored = JobDocument.model_validate(world.job_document(TENANT, job.id))
    before = snapshot(world, images)
    output = stored.outputs[0]
    await process_blob_created(
        world.ctx,
        event_type=BLOB_CREATED,
        subject=f"/blobServices/default/containers/{output.container}/blobs/{output.blob_name}",
        data=BlobCreatedData.model_validate(
            {"api": "PutBlob", "url": "https://x", "eTag": '"1"', "contentLength": output.bytes}
        ),
    )
    phases["thumbnail"] = snapshot(world, images) - before
    before = snapshot(world, images)
    await world.ctx.rate_limiter.hit("key:bench", 1_000_000)
    await job_view(world.ctx, await get_job(world.ctx, TENANT, job.id), status_url="x")
    phases["status poll"] = snapshot(world, images) - before
    return phases


def _let_the_minute_pass(world: FakeWorld) -> None:
    """As if a quota window had gone by: lane entries and waiters' due times move 70 s back."""

    def earlier(doc: dict[str, Any]) -> None:
        for entry in doc.get("entries", []):
            entry["at"] -= 70
        if "dueAt" in doc:
            doc["dueAt"] -= 70

    for doc in world.quotas.documents():
        world.quotas.poke(doc["scope"], doc["id"], earlier)


async def main() -> None:
    scenarios = {
        "no declared quota": {},
        "declared quota, slot at once": {"PROVIDER_QUOTAS": f"{MODEL}=rpm:1"},
    }
    for title, settings in scenarios.items():
        world, images = world_with_counting_images(**settings)
        phases = await one_job(world, images)
        print(f"## {title}")
        for phase, counts in phases.items():
            print(f"{phase:>28}: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items()) if n))
        total = sum((c for p, c in phases.items() if p != "status poll"), Counter())
        cosmos = sum(n for name, n in total.items() if name.startswith("cosmos"))
        blobs = sum(n for name, n in total.items() if name.startswith("blob"))
        print(
            f"{'job total (without polls)':>28}: cosmos calls {cosmos}, queue messages "
            f"{total['queue messages sent']}, blob calls {blobs}"
        )
        document = next(d for d in world.jobs.documents() if d["tenantId"] == TENANT)
        print(f"{'job document':>28}: {len(json.dumps(document))} bytes")
    await waiting_job()


async def waiting_job() -> None:
    """What one wait costs: a job delivered while another holds the model's only slot."""
    world, images = world_with_counting_images(PROVIDER_QUOTAS=f"{MODEL}=rpm:1")
    await submit_generation(world.ctx, "other", GenerationRequest.model_validate({"prompt": "first"}))
    await submit_generation(world.ctx, TENANT, GenerationRequest.model_validate({"prompt": "second"}))
    first, second = [JobMessage.model_validate_json(m.content) for m in world.job_queue.take()]
    await process_job(world.ctx, first)
    before = snapshot(world, images)
    await process_job(world.ctx, second)
    counts = snapshot(world, images) - before
    print("## declared quota, one wait (a delivery that finds no slot)")
    print(f"{'one wait':>28}: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items()) if n))
    before = snapshot(world, images)
    await world.ctx.rate_limiter.hit("key:bench", 1_000_000)
    await job_view(world.ctx, await get_job(world.ctx, TENANT, second.job_id), status_url="x")
    counts = snapshot(world, images) - before
    print(
        f"{'status poll while waiting':>28}: "
        + ", ".join(f"{name} {n}" for name, n in sorted(counts.items()) if n)
    )
    print(f"{'':>28}  (the quota query is shared by a process's polls for 2 s)")


if __name__ == "__main__":
    asyncio.run(main())
