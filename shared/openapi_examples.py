"""Example requests and answers of every operation, put into the OpenAPI document.

`openapi_examples.json` holds, per operationId, a request body, answers by status and parameter values:
the docs' example requests (docs/api.md, docs/auth.md, docs/compat.md) sent to the local stack, and what
it answered (hosts as `make dev` serves them, signatures and secrets shortened). A unit test checks every
operation has one and that each still validates against the operation's schemas.
"""

from __future__ import annotations

import json
from pathlib import Path

from shared.openapi import OperationExamples

_FILE = Path(__file__).with_name("openapi_examples.json")


def _load() -> dict[str, OperationExamples]:
    raw = json.loads(_FILE.read_text(encoding="utf-8"))
    return {
        operation_id: OperationExamples(
            request=entry.get("request"),
            responses={int(status): body for status, body in entry.get("responses", {}).items()},
            parameters=entry.get("parameters", {}),
        )
        for operation_id, entry in raw.items()
    }


EXAMPLES: dict[str, OperationExamples] = _load()
