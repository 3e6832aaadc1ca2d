"""Running a document's marked bash example against the test stack, as a reader would run it."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from devtools.stack.stack import ROOT

LOCAL_API = "API=http://127.0.0.1:7071/api"


def run_marked_example(
    document: str,
    marker: str,
    *,
    cwd: Path,
    substitutions: Mapping[str, str],
    requires: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the ```bash block after `<!-- marker -->` in `document` (relative to the repo root), with each
    `substitutions` key (which must be in the script, as must every `requires` line) replaced by its value,
    and `env` added to the environment.
    Fails the test when the block is gone or the script exits non-zero."""
    text = (ROOT / document).read_text()
    match = re.search(rf"<!-- {re.escape(marker)} -->\n```bash\n(.*?)```", text, re.DOTALL)
    assert match, f"{document} lost its marked example {marker!r}"
    script = match.group(1)
    for expected in (*substitutions, *requires):
        assert expected in script, f"{document}'s example no longer sets {expected!r}"
    for original, replacement in substitutions.items():
        script = script.replace(original, replacement)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result
