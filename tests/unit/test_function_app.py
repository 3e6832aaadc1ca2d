"""The app as the host indexes it: every function, its trigger and its settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import function_app

ROOT = Path(__file__).resolve().parents[2]


def _bindings() -> dict[str, dict[str, object]]:
    result = {}
    for function in function_app.app.get_functions():
        metadata = json.loads(function.get_function_json())
        result[function.get_function_name()] = next(
            b for b in metadata["bindings"] if b["type"].endswith("Trigger")
        )
    return result


def test_functions_and_their_triggers() -> None:
    bindings = _bindings()

    assert set(bindings) == {
        "submit_generation",
        "get_generation",
        "generation_worker",
        "generation_poison",
        "stale_job_sweeper",
    }
    assert bindings["submit_generation"] == {
        "direction": "IN",
        "type": "httpTrigger",
        "name": "req",
        "methods": ["POST"],
        "authLevel": "ANONYMOUS",
        "route": "v1/images/generations",
    }
    assert bindings["get_generation"]["route"] == "v1/images/generations/{job_id}"
    assert bindings["generation_worker"]["queueName"] == "%JOBS_QUEUE%"
    assert bindings["generation_poison"]["queueName"] == "%JOBS_QUEUE%-poison"
    assert bindings["generation_worker"]["connection"] == "AzureWebJobsStorage"
    assert bindings["stale_job_sweeper"]["schedule"] == "0 */5 * * * *"


def test_binding_expressions_name_settings_the_example_configuration_sets() -> None:
    values = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]

    assert values["JOBS_QUEUE"] == "generation-jobs"


def test_route_prefix_setting_matches_host_json() -> None:
    from shared.settings import Settings

    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == Settings.model_fields["http_route_prefix"].default


_SUBMIT_PATH_PROBE = """
import asyncio, sys
import function_app, shared.jobs.service, shared.routes.generations
from shared.images.sniff import sniff_image
from shared.jobs import references
from shared.models.jobs import GenerationRequest
from shared.net.fetcher import FetchPolicy, FetchRefused, SafeFetcher
from shared.providers.catalog import ModelFamily
from shared.providers.parameters import check_request

# What the submit path does with reference images, masks, URLs and parameters.
png = b"\\x89PNG\\r\\n\\x1a\\n" + bytes.fromhex("0000000d49484452000000400000003008060000000000000000")
assert sniff_image(png).has_alpha
references._decode_base64("data:image/png;base64,iVBORw0KGgo=", "x", 100)
check_request(ModelFamily.GPT_IMAGE, GenerationRequest(prompt="p", n=2), max_images=4)
policy = FetchPolicy.build(
    allowed_hosts=[], dev_http_hosts=[], own_storage_url=None, max_bytes=1, timeout_seconds=1
)
try:
    asyncio.run(SafeFetcher(policy).fetch_image("https://169.254.169.254/"))
except FetchRefused:
    pass
print(sorted(m for m in sys.modules if m.split(".")[0] in {"openai", "PIL"} or m.startswith("google.genai")))
"""


def test_the_http_path_does_not_import_provider_sdks_or_pillow() -> None:
    output = subprocess.run(
        [sys.executable, "-c", _SUBMIT_PATH_PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    assert output.strip() == "[]"
