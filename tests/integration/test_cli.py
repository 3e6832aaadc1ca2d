"""The `imagegen` command (installed in the venv by `make install`) run as a subprocess against the stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from devtools.stack.stack import LocalStack
from tests.integration.conftest import DEV_KEY, Simulator, unique_prompt

pytestmark = pytest.mark.integration

IMAGEGEN = Path(sys.executable).with_name("imagegen")


def _run(stack: LocalStack, cwd: Path, *args: str, key: str = DEV_KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IMAGEGEN_BASE_URL": stack.endpoints.api_url, "IMAGEGEN_API_KEY": key}
    return subprocess.run(
        [str(IMAGEGEN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_generate_saves_the_image_and_shows_progress(stack: LocalStack, tmp_path: Path) -> None:
    prompt = unique_prompt("a lighthouse")

    result = _run(stack, tmp_path, "generate", prompt, "--aspect-ratio", "16:9", "-o", "out.png")

    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == (1344, 768)
    assert "queued" in result.stderr and "succeeded" in result.stderr  # progress, a line per change
    assert "1344x768 image/png" in result.stdout and "out.png" in result.stdout


def test_json_output_and_the_other_commands(stack: LocalStack, tmp_path: Path) -> None:
    prompt = unique_prompt("a paper boat")
    generated = _run(stack, tmp_path, "generate", prompt, "-n", "2", "--json", "-q")
    job = json.loads(generated.stdout)
    image_id = job["outputs"][1]["id"]

    got = json.loads(_run(stack, tmp_path, "get", job["id"], "--json").stdout)
    listed = json.loads(
        _run(stack, tmp_path, "jobs", "--status", "succeeded", "--limit", "5", "--json").stdout
    )
    images = json.loads(_run(stack, tmp_path, "images", "--search", prompt, "--json").stdout)
    downloaded = json.loads(_run(stack, tmp_path, "download", image_id, "--json").stdout)
    usage = json.loads(_run(stack, tmp_path, "usage", "--json").stdout)
    models = _run(stack, tmp_path, "models")

    assert generated.returncode == 0 and generated.stderr == ""
    assert got["id"] == job["id"] and got["status"] == "succeeded" and len(got["outputs"]) == 2
    assert job["id"] in [item["id"] for item in listed["items"]]
    assert sorted(item["id"] for item in images["items"]) == sorted(o["id"] for o in job["outputs"])
    assert (
        downloaded["path"] == f"{image_id}.png"
        and (tmp_path / downloaded["path"]).stat().st_size == downloaded["bytes"]
    )
    assert usage["available"] == usage["balance"] - usage["reserved"]
    assert "azure-openai/gpt-image-1  gpt-image  refs≤5, mask" in models.stdout


def test_exit_codes_say_what_went_wrong(stack: LocalStack, simulator: Simulator, tmp_path: Path) -> None:
    simulator.fault("safety", count=1)
    failed = _run(stack, tmp_path, "generate", unique_prompt("refused"), "-q")
    refused = _run(stack, tmp_path, "generate", "x", "--aspect-ratio", "7:7")
    unknown = _run(stack, tmp_path, "get", "no-such-job", "--json")
    unauthorized = _run(stack, tmp_path, "usage", key="not-a-key")
    simulator.fault("hang", count=1, model="dall-e-3")
    timed_out = _run(
        stack,
        tmp_path,
        "generate",
        unique_prompt("slow"),
        "--model",
        "dall-e-3",
        "--provider",
        "azure-openai",
        "--timeout",
        "2",
        "--json",
        "-q",
    )
    no_url = subprocess.run(
        [str(IMAGEGEN), "usage"], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True
    )

    assert failed.returncode == 1 and "CONTENT_POLICY" in failed.stdout + failed.stderr
    assert refused.returncode == 3 and "VALIDATION_ERROR" in refused.stderr
    assert unknown.returncode == 5 and json.loads(unknown.stdout)["error"]["code"] == "NOT_FOUND"
    assert unauthorized.returncode == 4 and "UNAUTHORIZED" in unauthorized.stderr
    assert timed_out.returncode == 7 and json.loads(timed_out.stdout)["status"] in ("queued", "running")
    assert no_url.returncode == 2 and "IMAGEGEN_BASE_URL" in no_url.stderr
