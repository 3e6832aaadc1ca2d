"""Each generation knob reaches the provider as its wire format requires (the simulator's records)."""

from __future__ import annotations

import io

import httpx
import pytest
from azure.cosmos import ContainerProxy
from azure.storage.blob import BlobServiceClient
from PIL import Image

from tests.integration.conftest import Simulator, submit, unique_prompt, wait_for_terminal

pytestmark = pytest.mark.integration


def _image(url: str) -> Image.Image:
    return Image.open(io.BytesIO(httpx.get(url).raise_for_status().content))


def test_gemini_gets_image_config_negative_prompt_and_one_call_per_image(
    api: httpx.Client, simulator: Simulator, jobs_container: ContainerProxy, blob_service: BlobServiceClient
) -> None:
    prompt = unique_prompt("a quiet harbour")
    job = submit(
        api,
        prompt=prompt,
        size="1920x1080",
        resolution="high",
        negativePrompt="boats, people",
        n=2,
        outputFormat="jpeg",
        outputCompression=70,
        quality="high",
    )

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    sent = simulator.requests_for(prompt, kind="image")
    assert len(sent) == 2  # Gemini draws one image per call
    for request in sent:
        assert request["aspectRatio"] == "16:9"  # the pixel size mapped to the nearest Gemini ratio
        assert request["imageSize"] == "2K"  # resolution high
        assert request["texts"] == [prompt, "Avoid in the image: boats, people"]
        assert request["body"]["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    assert done["warnings"] == ["quality is ignored by Gemini (it uses the model's defaults)."]
    assert (
        done["usage"]["totalTokens"]
        == 2 * (done["usage"]["inputTokens"] + done["usage"]["outputTokens"]) // 2
    )
    assert done["text"].startswith("Here is an image of")
    # Two outputs, each its own blob, converted from the simulator's PNG to JPEG.
    assert [output["id"] for output in done["outputs"]] == [f"{job['id']}-0", f"{job['id']}-1"]
    stored = jobs_container.read_item(job["id"], partition_key="dev")
    names = [output["blobName"] for output in stored["outputs"]]
    assert names == [f"images/dev/{stored['createdAt'][:10]}/{job['id']}-{n}.jpg" for n in (0, 1)]
    for output, name in zip(done["outputs"], names, strict=True):
        image = _image(output["url"])
        assert image.format == "JPEG" and output["mimeType"] == "image/jpeg"
        assert image.size == (output["width"], output["height"]) == (2688, 1536)
        blob = blob_service.get_blob_client("generated", name).get_blob_properties()
        assert blob.size == output["bytes"]


def test_gpt_image_gets_size_quality_n_and_output_format_natively(
    api: httpx.Client, simulator: Simulator
) -> None:
    prompt = unique_prompt("a ceramic mug")
    job = submit(
        api,
        prompt=prompt,
        provider="azure-openai",
        model="gpt-image-2",
        size="1024x1536",
        quality="low",
        n=3,
        outputFormat="webp",
        outputCompression=60,
        negativePrompt="no logo",
        style="vivid",
    )

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    [sent] = simulator.requests_for(prompt)  # gpt-image draws n images in one call
    assert sent["path"] == "/openai/deployments/gpt-image-2/images/generations"
    body = sent["body"]
    assert (body["size"], body["quality"], body["n"]) == ("1024x1536", "low", 3)
    assert (body["output_format"], body["output_compression"]) == ("webp", 60)
    assert "style" not in body and "negative_prompt" not in body
    assert len(done["outputs"]) == 3
    assert {(o["mimeType"], o["width"], o["height"]) for o in done["outputs"]} == {("image/webp", 1024, 1536)}
    assert done["warnings"] == [
        "style is ignored by gpt-image models (dall-e-3 only).",
        "negativePrompt is ignored by Azure OpenAI.",
    ]
    assert done["size"] == "1024x1536"


def test_dall_e_3_gets_style_and_resolution_as_quality_and_parallel_calls(
    api: httpx.Client, simulator: Simulator
) -> None:
    prompt = unique_prompt("a castle")
    job = submit(
        api, prompt=prompt, provider="azure-openai", model="dall-e-3", style="natural", resolution="4k", n=2
    )

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    sent = simulator.requests_for(prompt)
    assert len(sent) == 2
    for request in sent:
        assert request["body"]["style"] == "natural"
        assert request["body"]["quality"] == "hd"
        assert request["body"]["n"] == 1
        assert request["body"]["response_format"] == "b64_json"
    assert len(done["outputs"]) == 2
    assert done["revisedPrompt"] == f"A detailed rendering of {prompt}"


def test_gpt_image_resolution_maps_to_quality(api: httpx.Client, simulator: Simulator) -> None:
    prompt = unique_prompt("a lamp")
    job = submit(api, prompt=prompt, provider="azure-openai", model="gpt-image-1", resolution="high")

    assert wait_for_terminal(api, job["id"])["status"] == "succeeded"
    [sent] = simulator.requests_for(prompt)
    assert sent["body"]["quality"] == "high"
    assert "output_format" not in sent["body"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "azure-openai", "model": "gpt-image-1", "size": "1792x1024"}, "size"),
        ({"provider": "azure-openai", "model": "dall-e-3", "quality": "low"}, "quality"),
        ({"provider": "azure-openai", "model": "dall-e-3", "style": "loud"}, "style"),
        ({"size": "big"}, "size"),
        ({"n": 5}, "n"),
        ({"n": 0}, "n"),
        ({"resolution": "8k"}, "resolution"),
        ({"outputFormat": "gif"}, "outputFormat"),
        ({"outputCompression": 101}, "outputCompression"),
        ({"enhancementOptions": {"template": "baroque"}}, "enhancementOptions.template"),
    ],
)
def test_parameters_a_model_cannot_take_are_refused(
    api: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = api.post("/v1/images/generations", json={"prompt": "x", **body})

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in [detail["field"] for detail in error["details"]]


def test_auto_enhance_rewrites_the_prompt_with_the_gemini_text_model(
    api: httpx.Client, simulator: Simulator
) -> None:
    prompt = unique_prompt("a cat")
    job = submit(api, prompt=prompt, autoEnhance=True, enhancementOptions={"template": "photorealistic"})

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    [text_call] = simulator.requests_for(prompt, kind="text")
    assert text_call["model"] == "gemini-2.5-flash"
    instruction = text_call["body"]["systemInstruction"]["parts"][0]["text"]
    assert "Style: a photograph" in instruction
    enhanced = f"{prompt}, rendered as a photograph, with careful lighting and composition"
    assert done["originalPrompt"] == prompt
    assert done["prompt"] == enhanced
    [image_call] = simulator.requests_for(enhanced, kind="image")
    assert image_call["model"] == "gemini-2.5-flash-image"


def test_auto_enhance_uses_the_azure_chat_deployment(api: httpx.Client, simulator: Simulator) -> None:
    prompt = unique_prompt("a bicycle")
    job = submit(
        api, prompt=prompt, provider="azure-openai", model="gpt-image-1", autoEnhance=True,
        enhancementOptions={"template": "sticker"},
    )  # fmt: skip

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    [chat] = simulator.requests_for(prompt, kind="chat")
    assert chat["path"] == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert "Style: a sticker" in chat["system"]
    assert done["prompt"] == f"{prompt}, rendered as a sticker, with careful lighting and composition"
    assert simulator.requests_for(done["prompt"], kind="image")


def test_an_enhancement_failure_keeps_the_original_prompt_with_a_warning(
    api: httpx.Client, simulator: Simulator
) -> None:
    simulator.fault("http_500", model="gemini-2.5-flash")  # the text model only
    prompt = unique_prompt("a dog")
    job = submit(api, prompt=prompt, autoEnhance=True)

    done = wait_for_terminal(api, job["id"])

    assert done["status"] == "succeeded", done
    assert done["prompt"] == done["originalPrompt"] == prompt
    assert done["retryCount"] == 0
    [warning] = done["warnings"]
    assert warning.startswith("Prompt enhancement failed")
    assert len(simulator.requests_for(prompt, kind="image")) == 1


def test_without_auto_enhance_no_text_model_is_called(api: httpx.Client, simulator: Simulator) -> None:
    prompt = unique_prompt("plain")
    done = wait_for_terminal(api, submit(api, prompt=prompt)["id"])

    assert done["prompt"] == done["originalPrompt"] == prompt
    assert simulator.requests_for(prompt, kind="text") == []
