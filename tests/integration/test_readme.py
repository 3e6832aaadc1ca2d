"""The README's example runs as written (against this session's stack instead of port 7071)."""

from __future__ import annotations

import re
import subprocess

import pytest

from devtools.stack.stack import ROOT, LocalStack

pytestmark = pytest.mark.integration


def test_the_readme_curl_example_produces_a_png(stack: LocalStack, tmp_path: object) -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- readme-example -->\n```bash\n(.*?)```", readme, re.DOTALL)
    assert match, "the README lost its marked example"
    script = match.group(1)
    assert "API=http://127.0.0.1:7071/api" in script
    script = script.replace("API=http://127.0.0.1:7071/api", f"API={stack.endpoints.api_url}")

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "PNG image data, 1344 x 768" in result.stdout
    assert '"status": "succeeded"' in result.stdout
