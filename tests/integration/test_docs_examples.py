"""The docs' examples run as written (against this session's stack instead of port 7071)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.stack.stack import LocalStack
from tests.integration.conftest import ADMIN_KEY
from tests.integration.doc_examples import LOCAL_API, run_marked_example

pytestmark = pytest.mark.integration


def test_the_api_tour_runs(stack: LocalStack, tmp_path: Path) -> None:
    result = run_marked_example(
        "docs/api.md",
        "docs-example",
        cwd=tmp_path,
        substitutions={LOCAL_API: f"API={stack.endpoints.api_url}"},
    )

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
    result = run_marked_example(
        "docs/auth.md",
        "api-example",
        cwd=tmp_path,
        substitutions={
            LOCAL_API: f"API={stack.endpoints.api_url}",
            "ADMIN_KEY=local-admin-key": f"ADMIN_KEY={ADMIN_KEY}",
        },
        timeout=60,
    )

    output = result.stdout.lower()
    assert "x-ratelimit-limit: 3" in output
    assert "x-ratelimit-remaining: 2" in output
    assert "404\n404\n429\n" in output
    assert '"revokedat": "' in output
    assert "after revocation: 401" in output
    assert '"status": "ok"' in output
    assert "/v1/admin/api-keys\n" in output
