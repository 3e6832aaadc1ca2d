"""A request becomes a job's spec, a job its views, and a spec the provider call, each built from its
source."""

from __future__ import annotations

from shared.compat.seed001 import generation_view
from shared.jobs.service import job_view, submit_generation
from shared.jobs.worker import process_job
from shared.models.jobs import GenerationRequest, GenerationSpec, JobStatus
from shared.models.messages import JobMessage
from shared.providers.base import ImageCall
from tests.fakes.context import fake_world
from tests.fakes.jobs import stored_job

TENANT = "tenant-a"


def test_a_spec_takes_the_requests_knobs_and_what_was_resolved() -> None:
    request = GenerationRequest.model_validate(
        {
            "prompt": "as asked",
            "size": "1024x1024",
            "quality": "high",
            "style": "vivid",
            "resolution": "4k",
            "negativePrompt": "fog",
            "n": 3,
            "outputFormat": "webp",
            "outputCompression": 70,
            "autoEnhance": True,
            "enhancementOptions": {"template": "comic"},
        }
    )

    spec = GenerationSpec.from_request(
        request, prompt="rendered", provider="azure-openai", model="gpt-image-1", aspect_ratio="16:9"
    )

    assert spec.model_dump(by_alias=False, exclude={"reference_blobs", "mask_blob"}) == {
        "prompt": "rendered",
        "provider": "azure-openai",
        "model": "gpt-image-1",
        "aspect_ratio": "16:9",
        "size": "1024x1024",
        "quality": "high",
        "style": "vivid",
        "resolution": "4k",
        "negative_prompt": "fog",
        "n": 3,
        "output_format": "webp",
        "output_compression": 70,
        "auto_enhance": True,
        "enhancement_template": "comic",
    }
    assert spec.reference_blobs == [] and spec.mask_blob is None


def test_without_enhancement_the_spec_names_no_template() -> None:
    request = GenerationRequest.model_validate({"prompt": "p", "enhancementOptions": {"template": "comic"}})

    spec = GenerationSpec.from_request(request, prompt="p", provider="gemini", model="m", aspect_ratio="1:1")

    assert spec.auto_enhance is False and spec.enhancement_template is None


async def test_the_native_and_seed_001_views_show_the_job_alike() -> None:
    world = fake_world()
    job = stored_job(
        JobStatus.SUCCEEDED,
        enhanced_prompt="an enhanced prompt",
        retry_count=2,
        processing_time_ms=1234,
        provider_text="words",
        size="1024x1024",
        meta={"k": "v"},
        served_by="gemini/m",
    )

    native = await job_view(world.ctx, job, status_url="https://api.example/j")
    seed001 = await generation_view(world.ctx, job)

    assert (native.prompt, native.original_prompt) == ("an enhanced prompt", "p")
    assert (native.text, native.size, native.served_by, native.n) == ("words", "1024x1024", "gemini/m", 1)
    assert (native.provider, native.model, native.mode, native.status.value) == (
        "gemini",
        "m",
        "generate",
        "succeeded",
    )
    assert native.terminate_post_uri == "https://api.example/j/cancel"
    for name in ("id", "prompt", "original_prompt", "aspect_ratio", "retry_count", "processing_time_ms"):
        assert getattr(seed001, name) == getattr(native, name), name
    assert (seed001.created_at, seed001.updated_at) == (native.created_at, native.updated_at)
    assert (seed001.project_id, seed001.status.value, seed001.meta) == ("t", "success", {"k": "v"})
    assert seed001.auto_enhance is False and seed001.output_image is None


def test_a_fallback_call_keeps_the_prompt_and_knobs_and_changes_the_model() -> None:
    spec = GenerationSpec(prompt="sent", provider="gemini", model="a", aspect_ratio="3:2", n=2)

    fallback = ImageCall(spec=spec).on("azure-openai", "gpt-image-1")

    assert (fallback.prompt, fallback.model, fallback.spec.provider) == (
        "sent",
        "gpt-image-1",
        "azure-openai",
    )
    assert (fallback.spec.aspect_ratio, fallback.spec.n) == ("3:2", 2)
    assert spec.model == "a", "the job's spec is not changed"


async def test_the_provider_is_sent_the_enhanced_prompt_and_the_jobs_model() -> None:
    world = fake_world()
    request = GenerationRequest.model_validate({"prompt": "a cat", "autoEnhance": True})
    job = await submit_generation(world.ctx, TENANT, request)

    for message in world.job_queue.take():
        await process_job(world.ctx, JobMessage.model_validate_json(message.content))

    [call] = world.provider.calls
    assert call.prompt.startswith("enhanced: ") and "a cat" in call.prompt
    assert call.model == job.spec.model == "gemini-2.5-flash-image"
    stored = world.job_document(TENANT, job.id)
    assert stored["spec"]["prompt"] == "a cat" and stored["enhancedPrompt"] == call.prompt
