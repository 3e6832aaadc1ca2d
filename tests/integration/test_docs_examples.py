"""The docs' examples run as written (against this session's stack instead of port 7071)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from devtools.stack.stack import ROOT, LocalStack
from tests.integration.conftest import ADMIN_KEY

pytestmark = pytest.mark.integration


def test_the_api_tour_runs(stack: LocalStack, tmp_path: Path) -> None:
    document = (ROOT / "docs" / "api.md").read_text()
    match = re.search(r"<!-- docs-example -->\n```bash\n(.*?)```", document, re.DOTALL)
    assert match, "docs/api.md lost its marked example"
    script = match.group(1)
    assert "API=http://127.0.0.1:7071/api" in script
    script = script.replace("API=http://127.0.0.1:7071/api", f"API={stack.endpoints.api_url}")

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0] == "succeeded"
    assert lines[1] == "1"  # one job for two submits with one Idempotency-Key
    assert lines[2] == "a paper boat on a pond"
    assert re.fullmatch(r'(?i)content-disposition: attachment; filename="[0-9a-f-]+-0\.png"', lines[3])
    assert "PNG image data, 1184 x 864" in lines[4]
    assert lines[5] == "A die-cut sticker of a fox, retro style"
    assert lines[6:] == ["True", "204"]
    assert (tmp_path / "boat.png").read_bytes().startswith(b"\x89PNG")


def test_the_auth_docs_example_runs(stack: LocalStack, tmp_path: Path) -> None:
    text = (ROOT / "docs" / "auth.md").read_text()
    match = re.search(r"<!-- api-example -->\n```bash\n(.*?)```", text, re.DOTALL)
    assert match, "docs/auth.md lost its marked example"
    script = match.group(1)
    assert "API=http://127.0.0.1:7071/api" in script and "ADMIN_KEY=local-admin-key" in script
    script = script.replace("API=http://127.0.0.1:7071/api", f"API={stack.endpoints.api_url}")
    script = script.replace("ADMIN_KEY=local-admin-key", f"ADMIN_KEY={ADMIN_KEY}")

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    output = result.stdout.lower()
    assert "x-ratelimit-limit: 3" in output
    assert "x-ratelimit-remaining: 2" in output
    assert "404\n404\n429\n" in output
    assert '"revokedat": "' in output
    assert "after revocation: 401" in output
    assert '"status": "ok"' in output
    assert "/v1/admin/api-keys\n" in output
