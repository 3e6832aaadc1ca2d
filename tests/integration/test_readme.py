"""The README's example runs as written (against this session's stack instead of port 7071)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.stack.stack import LocalStack
from tests.integration.doc_examples import LOCAL_API, run_marked_example

pytestmark = pytest.mark.integration


def test_the_readme_curl_example_produces_a_png(stack: LocalStack, tmp_path: Path) -> None:
    result = run_marked_example(
        "README.md",
        "readme-example",
        cwd=tmp_path,
        substitutions={LOCAL_API: f"API={stack.endpoints.api_url}"},
        timeout=60,
    )

    assert "PNG image data, 1344 x 768" in result.stdout
    assert '"status": "succeeded"' in result.stdout
