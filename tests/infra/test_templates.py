"""Every template parses, and checkov's Azure checks pass (a check that does not fit is skipped inline,
with its reason, in the template itself)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import INFRA, ROOT, bicep_files, main, parse, render


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_template_parses(path: Path) -> None:
    data = parse(path)

    assert data.get("resources") or data.get("modules"), f"{path} declares nothing"


def test_expected_templates_exist() -> None:
    names = {str(p.relative_to(INFRA)) for p in bicep_files()}

    assert {"main.bicep", "app/function.bicep", "app/rbac.bicep", "app/eventgrid.bicep"} <= names
    assert (INFRA / "main.parameters.json").exists()
    assert (ROOT / "azure.yaml").exists()


# The reason every checkov skip that only the public deployment needs begins with.
PUBLIC_ONLY_SKIP = "without vnetEnabled"


def _checkov(directory: Path) -> dict[str, Any]:
    """One report of the rendering: its modules scanned apart from main.bicep, then main.bicep alone.
    Scanned together, checkov links main.bicep's module arguments to the modules' parameters in an order
    that varies from run to run (with the hash seed), so the same files sometimes pass and sometimes
    fail; `render` already gives every module the values main.bicep passes it, as defaults."""
    checkov = Path(sys.executable).with_name("checkov")
    merged: dict[str, Any] = {
        "results": {"failed_checks": [], "passed_checks": [], "skipped_checks": []},
        "summary": {"passed": 0, "failed": 0, "parsing_errors": 0},
    }
    for scope in (["-d", str(directory), "--skip-path", "main.bicep"], ["-f", str(directory / "main.bicep")]):
        result = subprocess.run(
            [str(checkov), *scope, "--framework", "bicep", "--skip-download", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
        report = json.loads(result.stdout)
        for kind, checks in merged["results"].items():
            checks.extend(report["results"].get(kind, []))
        for count in merged["summary"]:
            merged["summary"][count] += report["summary"][count]
    return merged


def test_checkov_reports_no_failed_check_with_vnet_enabled_off_and_on(tmp_path: Path) -> None:
    # Both renderings: off (the default) and on, where the skips that only the public deployment needs
    # are left out, so those checks must pass. (One checkov run each: scanned together, checkov mixes up
    # the two copies' identically named resources.)
    reports = {
        "off": _checkov(render(tmp_path / "off", vnetEnabled=False)),
        "on": _checkov(render(tmp_path / "on", vnetEnabled=True, drop_skips_containing=PUBLIC_ONLY_SKIP)),
    }

    for state, report in reports.items():
        failed = [
            f"{c['check_id']} {c['file_path']} {c['resource']}: {c['check_name']}"
            for c in report["results"].get("failed_checks", [])
        ]
        assert failed == [], state
        assert report["summary"]["parsing_errors"] == 0, state
        assert report["summary"]["passed"] > 20, state  # the scan really read the templates
        for skipped in report["results"]["skipped_checks"]:
            assert len(skipped["check_result"]["suppress_comment"].strip()) > 20, skipped["check_id"]

    def keys(state: str, kind: str, reason: str = "") -> set[tuple[str, str, str]]:
        return {
            (c["check_id"], c["file_path"], c["resource"])
            for c in reports[state]["results"].get(kind, [])
            if reason in c["check_result"].get("suppress_comment", "")
        }

    public_only = keys("off", "skipped_checks", PUBLIC_ONLY_SKIP)
    # Public network access of storage, Cosmos DB and Key Vault: skipped without the network, passing with it.
    assert {check_id for check_id, _, _ in public_only} >= {
        "CKV_AZURE_35",
        "CKV_AZURE_59",
        "CKV_AZURE_101",
        "CKV_AZURE_109",
        "CKV_AZURE_189",
    }
    assert public_only - keys("on", "passed_checks") == set()
    assert keys("on", "skipped_checks", PUBLIC_ONLY_SKIP) == set()


def test_azd_parameters_name_parameters_of_main() -> None:
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    declared = main().data["parameters"]

    assert set(parameters) - set(declared) == set()
    assert {"environmentName", "location", "principalId"} <= set(parameters)
    # Parameters without a default must come from azd.
    assert {name for name, p in declared.items() if "default" not in p} <= set(parameters)


def test_outputs_are_upper_snake_for_azd() -> None:
    outputs = main().data["outputs"]

    assert outputs
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in outputs)


def test_the_azd_service_is_the_function_app() -> None:
    azure_yaml = (ROOT / "azure.yaml").read_text()
    service = main().module("api").resolve("serviceName")

    assert re.search(rf"^services:\n  {service}:\n(    .+\n)*    host: function$", azure_yaml, re.M)
    assert re.search(r"^    language: python$", azure_yaml, re.M)


def test_location_offers_the_flex_consumption_regions_through_azd() -> None:
    decorators = {d["type"]: d["argument"] for d in main().data["parameters"]["location"]["decorators"]}

    assert decorators["metadata"] == {"azd": {"type": "location"}}
    regions = decorators["allowed"]
    assert len(regions) > 25 and len(set(regions)) == len(regions)
    assert {"eastus", "westeurope", "swedencentral", "australiaeast"} <= set(regions)
    # Regions without Flex Consumption are refused before anything is created.
    assert not {"westindia", "chinanorth", "usgovvirginia"} & set(regions)


def test_vnet_enabled_and_key_vault_settings_come_from_the_azd_environment() -> None:
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]

    assert parameters["vnetEnabled"] == {"value": "${VNET_ENABLED=false}"}
    assert parameters["defaultProvider"] == {"value": "${DEFAULT_PROVIDER}"}
    assert main().data["parameters"]["vnetEnabled"]["default"] is False
