"""`python -m devtools.trace <jobId> [--dir DIR]`: one job's trace, as an indented tree with durations.

Reads the spans the local stack exports (OTLP JSON lines, `spans.jsonl` and its rotated `spans.1.jsonl`,
in `.devdata/telemetry` for `make dev`; `--dir` or TELEMETRY_FILES_DIRECTORY for another stack), finds
the trace the job's spans belong to (`imagegen.job.id`), and prints every span of it (the Azure SDKs'
and HTTP calls included) under its parent, children in the order they started: offset from the trace's
start, duration, name, and the span's `imagegen.*` attributes. A span whose parent was not exported (the
Functions host's own span, in Azure) is printed as a root.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / ".devdata" / "telemetry"
JOB_ID = "imagegen.job.id"
_STATUS_ERROR = 2
_KINDS = {1: "", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    error: str | None
    scope: str
    children: list[Span] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def _value(value: dict[str, Any]) -> Any:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def read_spans(directory: Path) -> Iterator[Span]:
    """Every span in the directory's span files (a line being written is skipped)."""
    for path in (directory / "spans.1.jsonl", directory / "spans.jsonl"):
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                request = json.loads(line)
            except json.JSONDecodeError:
                continue
            for resource in request.get("resourceSpans", []):
                for scope in resource.get("scopeSpans", []):
                    for raw in scope.get("spans", []):
                        yield _span(raw, scope.get("scope", {}).get("name", ""))


def _span(raw: dict[str, Any], scope: str) -> Span:
    status = raw.get("status", {})
    attributes = {a["key"]: _value(a.get("value", {})) for a in raw.get("attributes", [])}
    error = None
    if status.get("code") == _STATUS_ERROR:
        error = str(attributes.get("error.type") or status.get("message") or "error")
    return Span(
        trace_id=raw["traceId"],
        span_id=raw["spanId"],
        parent_id=raw.get("parentSpanId") or None,
        name=raw["name"],
        kind=_KINDS.get(int(raw.get("kind", 1)), ""),
        start_ns=int(raw["startTimeUnixNano"]),
        end_ns=int(raw["endTimeUnixNano"]),
        attributes=attributes,
        error=error,
        scope=scope,
    )


def job_trace(spans: Iterable[Span], job_id: str) -> list[Span]:
    """The roots of the job's trace (the trace its spans carry), each with its children, in start order."""
    spans = list(spans)
    trace_ids = {s.trace_id for s in spans if s.attributes.get(JOB_ID) == job_id}
    members = {s.span_id: s for s in spans if s.trace_id in trace_ids}
    roots: list[Span] = []
    for member in members.values():
        member.children.clear()
    for member in sorted(members.values(), key=lambda s: s.start_ns):
        parent = members.get(member.parent_id or "")
        (parent.children if parent is not None else roots).append(member)
    return roots


def render(roots: list[Span], job_id: str) -> str:
    if not roots:
        return f"No spans of job {job_id}."
    start = min(r.start_ns for r in roots)
    end = max(s.end_ns for s in _walk(roots))
    trace_ids = ", ".join(sorted({r.trace_id for r in roots}))
    count = sum(1 for _ in _walk(roots))
    lines = [f"job {job_id}  trace {trace_ids}  {(end - start) / 1e9:.3f} s, {count} spans"]
    for depth, span in _walk_with_depth(roots):
        offset = (span.start_ns - start) / 1e9
        details = _details(span)
        lines.append(
            f"{offset:+9.3f}s {span.duration_ms:10.1f} ms  {'  ' * depth}{span.name}"
            + (f" [{span.kind}]" if span.kind else "")
            + (f"  {details}" if details else "")
            + (f"  !! {span.error}" if span.error else "")
        )
    return "\n".join(lines)


def _details(span: Span) -> str:
    shown = {
        key.removeprefix("imagegen."): value
        for key, value in span.attributes.items()
        if (key.startswith("imagegen.") and key not in (JOB_ID, "imagegen.tenant.id")) or key == "error.type"
    }
    return " ".join(f"{key}={value}" for key, value in shown.items())


def _walk(spans: list[Span]) -> Iterator[Span]:
    for _, span in _walk_with_depth(spans):
        yield span


def _walk_with_depth(spans: list[Span], depth: int = 0) -> Iterator[tuple[int, Span]]:
    for span in spans:
        yield depth, span
        yield from _walk_with_depth(span.children, depth + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.trace", description=__doc__.split("\n\n")[0])
    parser.add_argument("job_id")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("TELEMETRY_FILES_DIRECTORY") or DEFAULT_DIR),
        help="the telemetry directory (default: .devdata/telemetry, or TELEMETRY_FILES_DIRECTORY)",
    )
    args = parser.parse_args(argv)
    if not (args.dir / "spans.jsonl").exists():
        print(f"No spans in {args.dir}: is the local stack (make dev) running?", file=sys.stderr)
        return 2
    roots = job_trace(read_spans(args.dir), args.job_id)
    print(render(roots, args.job_id))
    return 0 if roots else 1


if __name__ == "__main__":
    sys.exit(main())
