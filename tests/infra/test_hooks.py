"""The azd hooks: preprovision stops a deploy whose default provider is not configured, naming the
setting; postdown gives the next Key Vault a new name; the api service's prepackage compiles the app so
that its bytecode ships in the deployment package. The sh scripts run here; the pwsh mirrors are
compared with them (and run too where PowerShell is installed)."""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devtools import package
from tests.infra.bicep import INFRA, ROOT, config, main

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


# prepackage: the app's bytecode in the deployment package. The tests run on the runtime's Python, so
# importlib's cache names and hashes are the runtime's.

APP_PYTHON = config(next(iter(main().module("api").resources("Microsoft.Web/sites").values())))["properties"][
    "functionAppConfig"
]["runtime"]["version"]
CACHE_TAG = "cpython-" + APP_PYTHON.replace(".", "")
# What .funcignore left out before it shipped bytecode: it still leaves all of it out but the bytecode.
LEFT_OUT_BEFORE = [
    ".git*", ".venv", ".vscode", ".ci", ".devdata", ".stamps", "__pycache__", "node_modules", "devtools",
    "tests", "bench", "docs", "infra", "Makefile", "package.json", "package-lock.json", "pyproject.toml",
    "requirements-dev.txt", "local.settings.json", "local.settings.json.example", "azure.yaml", "clients",
]  # fmt: skip
# Files a developer's checkout holds besides the repository's: bytecode of local runs (other versions,
# optimized, of tests and tools), azd's and Core Tools' local files. None of them ships.
LOCAL_FILES = [
    "shared/__pycache__/settings.cpython-312.pyc",
    "shared/__pycache__/settings.cpython-313.opt-1.pyc",
    "tests/__pycache__/conftest.cpython-313.pyc",
    "bench/__pycache__/cold_start.cpython-313.pyc",
    "devtools/devhost/__pycache__/host.cpython-313.pyc",
    "local.settings.json",
    ".azure/prod/.env",
    "node_modules/azurite/package.json",
]


def _app_sources(root: Path) -> list[Path]:
    return [root / "function_app.py", *sorted((root / "shared").rglob("*.py"))]


def _bytecode(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


def _all_bytecode(root: Path) -> set[Path]:
    return set(root.rglob("*.pyc"))  # not into the .venv link


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout with a developer's local files, after the prepackage hook ran in it."""
    assert sys.implementation.cache_tag == CACHE_TAG, "run the tests on the Function App's Python"
    root = package.checkout(tmp_path_factory.mktemp("checkout"))
    for name in LOCAL_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"local")
    # A local run's bytecode of an app module: up to date, but checked by timestamp.
    py_compile.compile(
        str(root / "shared/settings.py"), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
    )
    pycache_prefix = tmp_path_factory.mktemp("pycache-prefix")
    result = package.run_prepackage_hook(root, {**os.environ, "PYTHONPYCACHEPREFIX": str(pycache_prefix)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("prepackage: compiled function_app.py and shared/ with .venv/bin/python")
    assert not list(pycache_prefix.rglob("*")), "the bytecode went to PYTHONPYCACHEPREFIX"
    return root


def test_prepackage_compiles_every_app_module_to_checked_hash_bytecode_of_the_runtimes_python(
    checkout: Path,
) -> None:
    sources = _app_sources(checkout)

    assert len(sources) > 100
    for source in sources:
        data = _bytecode(source).read_bytes()
        assert _bytecode(source).name.endswith(f".{CACHE_TAG}.pyc")
        assert data[:4] == importlib.util.MAGIC_NUMBER, source
        assert int.from_bytes(data[4:8], "little") == 0b11, f"{source}: not checked-hash bytecode"
        assert data[8:16] == importlib.util.source_hash(source.read_bytes()), source


def test_prepackage_compiles_nothing_but_the_app(checkout: Path) -> None:
    local = {checkout / name for name in LOCAL_FILES if name.endswith(".pyc")}

    assert _all_bytecode(checkout) - local == {_bytecode(source) for source in _app_sources(checkout)}
    assert all((checkout / name).read_bytes() == b"local" for name in LOCAL_FILES)


def test_the_package_ships_the_app_bytecode_and_leaves_out_all_it_left_out_before(
    checkout: Path, tmp_path: Path
) -> None:
    before = tmp_path / "funcignore-before"
    before.write_text("\n".join(LEFT_OUT_BEFORE) + "\n")
    shipped = package.packaged_files(checkout)
    shipped_before = package.packaged_files(checkout, ignore_file=before)
    app_bytecode = {_bytecode(source).relative_to(checkout).as_posix() for source in _app_sources(checkout)}

    assert {name for name in shipped if name.endswith(".pyc")} == app_bytecode
    assert [name for name in shipped if not name.endswith(".pyc")] == shipped_before
    assert {"function_app.py", "host.json", "requirements.txt", "shared/settings.py"} <= set(shipped_before)
    assert not set(LOCAL_FILES) & set(shipped)
    lines = (ROOT / ".funcignore").read_text().splitlines()
    assert set(LEFT_OUT_BEFORE) - {"__pycache__"} <= set(lines)


def test_the_app_imports_from_the_read_only_package_without_compiling_a_module(tmp_path: Path) -> None:
    root = package.build(tmp_path)
    files_before = {path: path.stat().st_mtime_ns for path in root.rglob("*")}
    # Bytecode writing on: a module compiled from source would be written or fail to be, and -v says which.
    # (Run as root, the read-only modes stop nothing; the files' times show nothing was written.)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}}
    probe = (
        "import function_app, json, sys\n"
        "print(json.dumps([m.__file__ for m in list(sys.modules.values()) if getattr(m, '__file__', None)]))"
    )
    result = subprocess.run(
        [sys.executable, "-v", "-c", probe], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr[-2000:]
    imported = [Path(f) for f in json.loads(result.stdout.splitlines()[-1]) if f.startswith(str(root))]
    assert root / "function_app.py" in imported and len(imported) > 50
    loaded = re.findall(rf"^# code object from '?({re.escape(str(root))}/[^']+?)'?$", result.stderr, re.M)
    assert sorted(loaded) == sorted(str(_bytecode(source)) for source in imported)
    assert not re.search(rf"^# (created|could not create) '?{re.escape(str(root))}", result.stderr, re.M)
    assert {path: path.stat().st_mtime_ns for path in root.rglob("*")} == files_before


def _interpreters(tmp_path: Path, **programs: str) -> str:
    """A PATH holding only `programs`: name -> a stand-in's exit status ("1") or "runtime" for the Python
    the tests run on."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, program in programs.items():
        if program == "runtime":
            (bin_dir / name).symlink_to(os.path.realpath(sys.executable))
        else:
            (bin_dir / name).write_text(f"#!/bin/sh\nexit {program}\n")
            (bin_dir / name).chmod(0o755)
    return str(bin_dir)


def _service(tmp_path: Path, **modules: str) -> Path:
    root = tmp_path / "service"
    (root / "shared").mkdir(parents=True)
    (root / "function_app.py").write_text("import shared\n")
    (root / "shared/__init__.py").write_text("")
    for name, text in modules.items():
        (root / f"shared/{name}.py").write_text(text)
    return root


def test_prepackage_takes_the_runtimes_python_from_path(tmp_path: Path) -> None:
    root = _service(tmp_path, jobs="JOBS = 1\n")
    # python3.13 fails as a pyenv shim does when that version is not selected; python3 is the runtime's.
    path = _interpreters(tmp_path, **{f"python{APP_PYTHON}": "127", "python3": "runtime", "python": "1"})

    result = package.run_prepackage_hook(root, {"PATH": path})

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("prepackage: compiled function_app.py and shared/ with python3 ")
    assert _all_bytecode(root) == {_bytecode(source) for source in _app_sources(root)}


def test_prepackage_without_the_runtimes_python_warns_and_lets_the_deploy_go_on(tmp_path: Path) -> None:
    root = _service(tmp_path)
    path = _interpreters(tmp_path, python3="1", python="1")  # another version: the check exits 1

    result = package.run_prepackage_hook(root, {"PATH": path})

    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.startswith(f"prepackage: no Python {APP_PYTHON} found")
    assert f"Install Python {APP_PYTHON}" in result.stderr and "cold start" in result.stderr
    assert _all_bytecode(root) == set()


def test_prepackage_stops_the_deploy_when_a_module_does_not_compile(tmp_path: Path) -> None:
    root = _service(tmp_path, broken="def broken(:\n")

    result = package.run_prepackage_hook(root, {"PATH": _interpreters(tmp_path, python3="runtime")})

    assert result.returncode == 1
    assert "shared/broken.py" in result.stdout
    assert result.stderr.startswith(
        f"prepackage: compiling function_app.py and shared/ with Python {APP_PYTHON} "
    )


def test_prepackage_refuses_a_directory_without_the_app(tmp_path: Path) -> None:
    result = package.run_prepackage_hook(tmp_path, {"PATH": _interpreters(tmp_path, python3="runtime")})

    assert result.returncode == 1
    assert result.stderr.startswith(
        "prepackage: function_app.py and shared/ are not in the working directory:"
    )


@pytest.mark.skipif(PWSH is None, reason="PowerShell is not installed here; its script is compared below")
def test_prepackage_ps1_compiles_the_app_too(tmp_path: Path) -> None:
    assert PWSH is not None
    root = _service(tmp_path, jobs="JOBS = 1\n")
    path = f"{_interpreters(tmp_path, python3='runtime')}{os.pathsep}{Path(PWSH).parent}"

    result = subprocess.run(
        [PWSH, "-NoProfile", "-File", str(HOOKS / "prepackage.ps1")],
        cwd=root,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert _all_bytecode(root) == {_bytecode(source) for source in _app_sources(root)}


def test_the_powershell_prepackage_hook_mirrors_the_sh_one() -> None:
    sh = (HOOKS / "prepackage.sh").read_text()
    ps1 = (HOOKS / "prepackage.ps1").read_text()

    assert len(_messages(sh, "fail")) == 2 and len(_messages(sh, "warn")) == 1
    assert _messages(sh, "fail") == _messages(ps1, "Fail")
    assert _messages(sh, "warn") == _messages(ps1, "Warn")
    assert re.findall(r"^version=(\S+)$", sh, re.M) == [APP_PYTHON]
    assert re.findall(r"^\$version = '(\S+)'$", ps1, re.M) == [APP_PYTHON]
    (sh_candidates,) = re.findall(r"^for candidate in (.+); do$", sh, re.M)
    ps1_candidates = re.findall(r"Command = (?:\(Join-Path \$PWD )?['\"]([^'\"]+)['\"]", ps1)
    windows = {".venv/bin/python": ".venv\\Scripts\\python.exe"}
    assert [c for c in ps1_candidates if c != "py"] == [
        windows.get(c, c) for c in sh_candidates.replace('"', "").split()
    ]
    (sh_compile,) = re.findall(r'"\$python" -m compileall (.+) \|\|$', sh, re.M)
    (ps1_compile,) = re.findall(r"@\('-m', 'compileall', (.+)\)$", ps1, re.M)
    assert sh_compile.split() == re.findall(r"'([^']+)'", ps1_compile)
    for script in (sh, ps1):
        assert "Remove-Item Env:PYTHONPYCACHEPREFIX" in script or "unset PYTHONPYCACHEPREFIX" in script


def test_azure_yaml_runs_the_prepackage_hook_of_the_api_service_in_sh_and_pwsh() -> None:
    hooks = yaml.safe_load((ROOT / "azure.yaml").read_text())["services"]["api"]["hooks"]

    assert hooks == {
        "prepackage": {
            "posix": {"shell": "sh", "run": "./infra/hooks/prepackage.sh"},
            "windows": {"shell": "pwsh", "run": "./infra/hooks/prepackage.ps1"},
        }
    }
