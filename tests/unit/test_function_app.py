"""The app as the host indexes it: every function, its trigger and its settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import azure.functions as func

import function_app

ROOT = Path(__file__).resolve().parents[2]


def _bindings(functions: list[func.Function]) -> dict[str, dict[str, object]]:
    result: dict[str, dict[str, object]] = {}
    for function in functions:
        metadata = json.loads(function.get_function_json())
        name = function.get_function_name()
        assert name is not None
        result[name] = next(b for b in metadata["bindings"] if b["type"].endswith("Trigger"))
    return result


def test_functions_and_their_triggers(app_functions: list[func.Function]) -> None:
    bindings = _bindings(app_functions)

    assert set(bindings) == {
        "submit_generation",
        "get_generation",
        "list_generations",
        "cancel_generation",
        "delete_generation",
        "seed001_create_generation",
        "seed001_list_generations",
        "seed001_get_generation",
        "seed001_delete_generation",
        "list_library_images",
        "get_library_image",
        "get_library_image_content",
        "list_gallery_images",
        "follow_image_link",
        "create_preset",
        "list_presets",
        "get_preset",
        "replace_preset",
        "delete_preset",
        "get_usage",
        "get_webhook_secret",
        "webhook_delivery",
        "generation_worker",
        "generation_poison",
        "stale_job_sweeper",
        "create_api_key",
        "list_api_keys",
        "revoke_api_key",
        "health",
        "openapi_document",
        "make_thumbnail",
        "agent_images",
        "seed000_create_image",
        "seed000_get_image_metadata",
        "seed002_submit_generation",
        "seed002_get_generation",
        "seed002_list_library_images",
        "seed002_get_library_image",
        "seed002_download_library_image",
        "seed002_get_usage",
        "list_models",
        "playground_page",
        "playground_asset",
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
    assert bindings["list_generations"]["methods"] == ["GET"]
    assert bindings["cancel_generation"]["route"] == "v1/images/generations/{job_id}/cancel"
    assert bindings["delete_generation"]["methods"] == ["DELETE"]
    assert bindings["playground_page"]["route"] == "playground"
    assert bindings["playground_page"]["authLevel"] == "ANONYMOUS"
    assert bindings["generation_worker"]["queueName"] == "%JOBS_QUEUE%"
    assert bindings["generation_poison"]["queueName"] == "%JOBS_QUEUE%-poison"
    assert bindings["generation_worker"]["connection"] == "AzureWebJobsStorage"
    assert bindings["webhook_delivery"]["queueName"] == "%WEBHOOKS_QUEUE%"
    assert bindings["stale_job_sweeper"]["schedule"] == "0 */5 * * * *"
    assert bindings["make_thumbnail"] == {"direction": "IN", "type": "eventGridTrigger", "name": "event"}


def test_every_http_function_is_anonymous_at_the_host_as_the_app_states(
    app_functions: list[func.Function],
) -> None:
    levels = {
        name: binding["authLevel"]
        for name, binding in _bindings(app_functions).items()
        if binding["type"] == "httpTrigger"
    }

    assert function_app.app.auth_level is func.AuthLevel.ANONYMOUS
    assert set(levels.values()) == {"ANONYMOUS"}, levels


def test_binding_expressions_name_settings_the_example_configuration_sets() -> None:
    values = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]

    assert values["JOBS_QUEUE"] == "generation-jobs"
    assert values["WEBHOOKS_QUEUE"] == "webhooks"


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
# The provider SDKs and Pillow, PyJWT with cryptography, the compatibility families and the worker's
# modules: each loads with the first request (or message) that needs it.
heavy = ("openai", "PIL", "google.genai", "jwt", "cryptography", "shared.compat", "shared.jobs.worker",
         "shared.jobs.generation", "shared.scheduling.gate", "shared.webhooks.delivery")
print(sorted(m for m in sys.modules if any(m == name or m.startswith(name + ".") for name in heavy)))
"""


def test_the_http_path_does_not_import_provider_sdks_pillow_jwt_compat_families_or_the_worker() -> None:
    output = subprocess.run(
        [sys.executable, "-c", _SUBMIT_PATH_PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    assert output.strip() == "[]"
