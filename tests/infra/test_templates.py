"""Every template parses, and checkov's Azure checks pass (a check that does not fit is skipped inline,
with its reason, in the template itself)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.bicep import INFRA, ROOT, bicep_files, main, parse


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_template_parses(path: Path) -> None:
    data = parse(path)

    assert data.get("resources") or data.get("modules"), f"{path} declares nothing"


def test_expected_templates_exist() -> None:
    names = {str(p.relative_to(INFRA)) for p in bicep_files()}

    assert {"main.bicep", "app/function.bicep", "app/rbac.bicep", "app/eventgrid.bicep"} <= names
    assert (INFRA / "main.parameters.json").exists()
    assert (ROOT / "azure.yaml").exists()


def test_checkov_reports_no_failed_check() -> None:
    checkov = Path(sys.executable).with_name("checkov")
    result = subprocess.run(
        [str(checkov), "-d", str(INFRA), "--framework", "bicep", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['file_path']} {c['resource']}: {c['check_name']}"
        for c in report.get("results", {}).get("failed_checks", [])
    ]

    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 20  # the scan really read the templates
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"]["suppress_comment"].strip()) > 20, skipped["check_id"]


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
