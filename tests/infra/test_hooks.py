"""The azd hooks: preprovision stops a deploy whose default provider is not configured, naming the
setting; postdown gives the next Key Vault a new name. The sh scripts run here; the pwsh mirrors are
compared with them (and run too where PowerShell is installed)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.infra.bicep import INFRA, ROOT, main

HOOKS = INFRA / "hooks"
PWSH = shutil.which("pwsh")

AZURE = {"AZURE_OPENAI_ACCOUNT_NAME": "aoai", "AZURE_OPENAI_DEPLOYMENTS": "gpt-image-1=gpt-image"}

# (azd environment, the setting the refusal must name; None: provisioning goes on)
CASES = [
    ({"GEMINI_API_KEY": "k"}, None),
    ({"GEMINI_API_KEY": "k", "DEFAULT_PROVIDER": "gemini"}, None),
    (AZURE, None),  # unset DEFAULT_PROVIDER follows the configured provider
    ({**AZURE, "DEFAULT_PROVIDER": "azure-openai"}, None),
    ({"AZURE_OPENAI_ACCOUNT_NAME": "a", "AZURE_OPENAI_DEPLOYMENTS": " x=dall-e-3, y = gpt-image"}, None),
    ({}, "GEMINI_API_KEY"),
    ({"DEFAULT_PROVIDER": "gemini", **AZURE}, "GEMINI_API_KEY"),
    ({"DEFAULT_PROVIDER": "azure-openai", "GEMINI_API_KEY": "k"}, "AZURE_OPENAI_ACCOUNT_NAME"),
    ({"DEFAULT_PROVIDER": "openai", "GEMINI_API_KEY": "k"}, "DEFAULT_PROVIDER"),
    ({"GEMINI_API_KEY": "k", "AZURE_OPENAI_ACCOUNT_NAME": "a"}, "AZURE_OPENAI_DEPLOYMENTS"),
    ({"GEMINI_API_KEY": "k", "AZURE_OPENAI_DEPLOYMENTS": "x=gpt-image"}, "AZURE_OPENAI_ACCOUNT_NAME"),
    ({"GEMINI_API_KEY": "k", "AZURE_OPENAI_ACCOUNT_NAME": "a", "AZURE_OPENAI_DEPLOYMENTS": "x=sd"}, "'sd'"),
    ({"GEMINI_API_KEY": "k", "AZURE_OPENAI_ACCOUNT_NAME": "a", "AZURE_OPENAI_DEPLOYMENTS": "x"}, "'x'"),
]


def _run(
    command: list[str], env: dict[str, str], path: str | None = None
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": path or os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(command, env={**base, **env}, capture_output=True, text=True, timeout=30, cwd=ROOT)


@pytest.mark.parametrize(("env", "named"), CASES)
def test_preprovision_stops_when_the_default_provider_is_not_configured(
    env: dict[str, str], named: str | None
) -> None:
    result = _run(["sh", str(HOOKS / "preprovision.sh")], env)

    if named is None:
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    else:
        assert result.returncode == 1
        assert result.stderr.startswith("preprovision: ")
        assert named in result.stderr


@pytest.mark.skipif(PWSH is None, reason="PowerShell is not installed here; its script is compared below")
@pytest.mark.parametrize(("env", "named"), CASES)
def test_preprovision_ps1_does_the_same(env: dict[str, str], named: str | None) -> None:
    assert PWSH is not None
    result = _run([PWSH, "-NoProfile", "-File", str(HOOKS / "preprovision.ps1")], env)

    assert result.returncode == (0 if named is None else 1), result.stderr
    if named is not None:
        assert named in result.stderr


def _messages(text: str, call: str) -> list[str]:
    """The refusal messages a script can print, with `$env:NAME` written as `$NAME`."""
    return [m.replace("$env:", "$") for m in re.findall(rf'\b{call} "([^"]+)"', text)]


def test_the_powershell_hooks_mirror_the_sh_ones() -> None:
    sh = (HOOKS / "preprovision.sh").read_text()
    ps1 = (HOOKS / "preprovision.ps1").read_text()

    assert len(_messages(sh, "fail")) == 8
    assert _messages(sh, "fail") == _messages(ps1, "Fail")
    for name in (
        "GEMINI_API_KEY",
        "AZURE_OPENAI_ACCOUNT_NAME",
        "AZURE_OPENAI_DEPLOYMENTS",
        "DEFAULT_PROVIDER",
    ):
        assert sh.count(name) == ps1.count(name), name
    for script in ("postdown.sh", "postdown.ps1"):
        assert "azd env set KEY_VAULT_NAME_SUFFIX" in (HOOKS / script).read_text()


def test_azure_yaml_runs_each_hook_in_sh_and_pwsh() -> None:
    hooks = yaml.safe_load((ROOT / "azure.yaml").read_text())["hooks"]

    for hook in ("preprovision", "postdown"):
        assert hooks[hook]["posix"] == {"shell": "sh", "run": f"./infra/hooks/{hook}.sh"}
        assert hooks[hook]["windows"] == {"shell": "pwsh", "run": f"./infra/hooks/{hook}.ps1"}
        assert (HOOKS / f"{hook}.sh").exists() and (HOOKS / f"{hook}.ps1").exists()
    assert set(hooks["postdeploy"]) == {"posix", "windows"}


def test_postdown_sets_a_new_key_vault_name_suffix_each_time(tmp_path: Path) -> None:
    # A stand-in `azd` that records its arguments.
    calls = tmp_path / "calls"
    azd = tmp_path / "azd"
    azd.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    azd.chmod(0o755)

    for _ in range(2):
        result = _run(["sh", str(HOOKS / "postdown.sh")], {}, path=f"{tmp_path}:{os.environ['PATH']}")
        assert result.returncode == 0, result.stderr

    first, second = calls.read_text().splitlines()
    assert re.fullmatch(r"env set KEY_VAULT_NAME_SUFFIX [0-9a-f]{6}", first)
    assert re.fullmatch(r"env set KEY_VAULT_NAME_SUFFIX [0-9a-f]{6}", second)
    assert first != second


def test_the_key_vault_name_takes_the_suffix_and_stays_within_24_characters() -> None:
    parameters = main().data["parameters"]
    abbreviation = json.loads((INFRA / "abbreviations.json").read_text())["keyVaultVaults"]
    (max_length,) = [
        d["argument"] for d in parameters["keyVaultNameSuffix"]["decorators"] if d["type"] == "max_length"
    ]

    assert main(keyVaultNameSuffix="a1b2c3").resolve("keyVaultResolvedName").endswith("-a1b2c3")
    assert main().module("keyVault").args["name"] == main().resolve("keyVaultResolvedName")
    # uniqueString() is 13 characters; vault names are at most 24.
    assert len(abbreviation) + 13 + len("-") + max_length <= 24
    parameters_json = (INFRA / "main.parameters.json").read_text()
    assert '"keyVaultNameSuffix": { "value": "${KEY_VAULT_NAME_SUFFIX}" }' in parameters_json
