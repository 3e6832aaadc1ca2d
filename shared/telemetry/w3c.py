"""W3C Trace Context (`traceparent`, `tracestate`) as plain strings, without OpenTelemetry.

A job's trace context is minted at submit and then only carried: on the job document and in every queue
message of the job. Values read back from a message or a document are checked here and dropped when
malformed, so a damaged trace context can never fail a job.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from pydantic import BeforeValidator

# version 00: 32 hex trace id and 16 hex parent id, neither all zeros, then the trace flags.
_TRACEPARENT = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
_TRACESTATE_MAX = 512
SAMPLED = "01"


def parse_traceparent(value: object) -> str | None:
    """`value` when it is a valid version-00 traceparent, else None."""
    if isinstance(value, str) and _TRACEPARENT.fullmatch(value.strip().lower()):
        return value.strip().lower()
    return None


def parse_tracestate(value: object) -> str | None:
    if isinstance(value, str) and value.strip() and len(value) <= _TRACESTATE_MAX and value.isprintable():
        return value.strip()
    return None


def trace_id(traceparent: str) -> str:
    """The 32-hex trace id of a valid traceparent (the `operation_Id` Application Insights shows)."""
    return traceparent.split("-")[1]


def is_sampled(traceparent: str) -> bool:
    return int(traceparent.split("-")[3], 16) & 1 == 1


def new_traceparent() -> str:
    """A new trace, sampled: what a job gets when no span is recording at its submit."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-{SAMPLED}"


def child_traceparent(parent: str | None) -> str:
    """A new span id in `parent`'s trace (same flags), or a new sampled trace when there is no parent."""
    valid = parse_traceparent(parent)
    if valid is None:
        return new_traceparent()
    version, trace, _, flags = valid.split("-")
    return f"{version}-{trace}-{secrets.token_hex(8)}-{flags}"


# Model fields: a malformed value read back is dropped (None), never an error.
Traceparent = Annotated[str | None, BeforeValidator(parse_traceparent)]
Tracestate = Annotated[str | None, BeforeValidator(parse_tracestate)]
