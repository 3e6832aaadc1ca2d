"""The api service's deployment package as `azd package` builds it, on this machine: the checkout's files,
the prepackage hook run on them (`infra/hooks/prepackage.sh`), then the files azd zips. azd applies
`.funcignore` by gitignore's rules (a directory left out is not looked into), here by git's own
implementation of them, and leaves out the ignore file, `local.settings.json` and `.azure` whatever it
says. The cold-start bench imports the app from such a package; tests check what it holds.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "infra" / "hooks" / "prepackage.sh"
IGNORE_FILE = ".funcignore"
# What azd leaves out of a Function App's zip whatever the ignore file says (pkg/project/project_utils.go).
AZD_LEFT_OUT_FILES = frozenset({IGNORE_FILE, "local.settings.json"})
AZD_LEFT_OUT_DIRECTORIES = frozenset({".azure"})


def checkout(destination: Path) -> Path:
    """A copy of this checkout as the developer running azd has it: the files git tracks or would track
    (not what `.gitignore` leaves out), and the project's `.venv` (a link to this one's, if it exists).
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    if (ROOT / ".venv").is_dir():
        (destination / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return destination


def run_prepackage_hook(
    directory: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The sh prepackage hook run as azd runs it: in the service's directory, in the caller's environment
    (or `env`)."""
    return subprocess.run(
        [shutil.which("sh") or "/bin/sh", str(HOOK)],
        cwd=directory,
        env=os.environ if env is None else env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def packaged_files(directory: Path, ignore_file: Path | None = None) -> list[str]:
    """The files azd zips from `directory` (relative POSIX paths, sorted), by `directory`'s `.funcignore`
    or by `ignore_file`."""
    rules = (ignore_file or directory / IGNORE_FILE).resolve()
    # A repository of its own, so that no ignore rule but these applies (not even ~/.config/git/ignore).
    subprocess.run(["git", "init", "-q", str(directory)], check=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--others", f"--exclude-from={rules}"],
        cwd=directory,
        capture_output=True,
        check=True,
    ).stdout.decode()
    names = []
    for name in filter(None, listed.split("\0")):
        parts = name.split("/")
        if parts[-1] in AZD_LEFT_OUT_FILES or AZD_LEFT_OUT_DIRECTORIES.intersection(parts[:-1]):
            continue
        names.append(name)
    return sorted(names)


def build(workspace: Path) -> Path:
    """The deployment package, unpacked read-only into `workspace / "package"` as Flex Consumption runs it,
    from a fresh copy of this checkout in `workspace / "checkout"`. Fails if the hook did not compile."""
    source = checkout(workspace / "checkout")
    hook = run_prepackage_hook(source)
    if hook.returncode != 0 or "compiled" not in hook.stdout:
        raise RuntimeError(f"the prepackage hook did not compile the app:\n{hook.stdout}{hook.stderr}")
    package = workspace / "package"
    for name in packaged_files(source):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, package / name)
    make_read_only(package)
    return package


def make_read_only(directory: Path) -> None:
    """Takes write permission off `directory` and everything in it."""
    no_write = ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    for path in [directory, *directory.rglob("*")]:
        path.chmod(path.stat().st_mode & no_write)
