"""The Python client (clients/python) against the local stack, sync and async."""

from __future__ import annotations

import io

import imagegen
import pytest
from PIL import Image

from devtools.stack.stack import LocalStack
from tests.integration.conftest import DEV_KEY, Simulator, unique_prompt

pytestmark = pytest.mark.integration


@pytest.fixture
def client(stack: LocalStack) -> imagegen.ImageGen:
    return imagegen.ImageGen(stack.endpoints.api_url, DEV_KEY)


def test_generate_waits_with_progress_and_the_image_downloads(client: imagegen.ImageGen) -> None:
    prompt = unique_prompt("a lighthouse")
    seen: list[str] = []

    with client:
        job = client.generate(prompt, aspect_ratio="16:9", on_progress=lambda j: seen.append(j.status))
        data = client.download(job.outputs[0].id or "")
        listed = next(client.images(search=prompt))
        found = [j.id for j in client.jobs(status="succeeded", page_size=2) if j.id == job.id][:1]

    assert job.succeeded and seen[0] == "queued" and seen[-1] == "succeeded"
    assert (job.outputs[0].width, job.outputs[0].height, job.outputs[0].bytes) == (1344, 768, len(data))
    assert Image.open(io.BytesIO(data)).size == (1344, 768)
    assert listed.id == job.outputs[0].id and listed.prompt == prompt
    assert found == [job.id]


def test_cancel_delete_and_typed_errors(client: imagegen.ImageGen, simulator: Simulator) -> None:
    simulator.fault("hang", count=1, model="dall-e-3")
    with client:
        job = client.submit(unique_prompt("slow"), provider="azure-openai", model="dall-e-3")
        canceled = client.cancel(job.id)
        with pytest.raises(imagegen.ConflictError) as conflict:
            client.cancel(job.id)
        client.delete(job.id, hard=True)
        with pytest.raises(imagegen.NotFoundError):
            client.get(job.id)
        with pytest.raises(imagegen.BadRequestError) as invalid:
            client.submit("x", aspect_ratio="7:7")

    assert canceled.status == "canceled"
    assert conflict.value.code == "JOB_NOT_CANCELABLE" and conflict.value.details == {"status": "canceled"}
    assert invalid.value.code == "VALIDATION_ERROR" and invalid.value.request_id
    with (
        imagegen.ImageGen(client.base_url, "not-a-key") as stranger,
        pytest.raises(imagegen.AuthenticationError),
    ):
        stranger.usage()


async def test_the_async_client_with_prefer_wait_usage_models_and_presets(stack: LocalStack) -> None:
    async with imagegen.AsyncImageGen(stack.endpoints.api_url, DEV_KEY) as client:
        job = await client.submit(unique_prompt("a paper boat"), wait=30, is_public=True)
        usage = await client.usage()
        catalog = await client.models()
        preset = await client.create_preset(
            "Sticker", "A sticker of {{subject}}", requirements=[{"key": "subject", "type": "text"}]
        )
        rendered = await client.generate(
            preset_id=preset.id, variables={"subject": "a fox"}, poll_interval=0.2
        )
        await client.delete_preset(preset.id)
        gallery = [image.id for image in (await client.list_gallery(limit=20)).items]

    assert job.succeeded and job.retry_after is None  # answered 200 within the wait
    assert usage.available == usage.balance - usage.reserved
    gemini = next(p for p in catalog.providers if p.name == "gemini")
    assert gemini.is_default and not gemini.models[0].mask
    assert any(m.mask for p in catalog.providers for m in p.models)
    assert rendered.prompt == "A sticker of a fox"
    assert job.outputs[0].id in gallery
