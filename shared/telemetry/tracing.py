"""Spans, and the trace context a job is given, at no cost while telemetry is off.

While no exporter is configured (`setup.state()` is None) every helper here returns at once, without
importing OpenTelemetry: a span is the shared `NO_SPAN`, and a new job's trace context is minted from
random ids (`w3c.new_traceparent`), so jobs carry a trace id (and log it) either way.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from shared.telemetry import setup
from shared.telemetry.w3c import new_traceparent, parse_traceparent, parse_tracestate

if TYPE_CHECKING:
    from opentelemetry.context import Context

SpanKind = Literal["internal", "server", "client", "producer", "consumer"]
AttributeValue = str | bool | int | float
SpanAttributes = Mapping[str, AttributeValue | None]


class SpanLike(Protocol):
    """What callers do with a span (an OpenTelemetry span when telemetry is on)."""

    def set_attribute(self, key: str, value: Any) -> None: ...

    def set_attributes(self, attributes: Mapping[str, Any]) -> None: ...

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None: ...

    def is_recording(self) -> bool: ...


class TraceCarrier(Protocol):
    """Anything that carries a job's trace context: the job document, its queue messages."""

    @property
    def traceparent(self) -> str | None: ...

    @property
    def tracestate(self) -> str | None: ...


class _NoSpan:
    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        pass

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        pass

    def is_recording(self) -> bool:
        return False


NO_SPAN: SpanLike = _NoSpan()


def _always(_: BaseException) -> bool:
    return True


@contextmanager
def span(
    name: str,
    attributes: SpanAttributes | None = None,
    *,
    kind: SpanKind = "internal",
    parent: TraceCarrier | None = None,
    link_ambient: bool = False,
    is_error: Callable[[BaseException], bool] = _always,
) -> Iterator[SpanLike]:
    """A span around the block, current while it runs. `parent`: continue that trace context instead of
    the current one; `link_ambient`: then also link the span that was current (the host's invocation).
    An exception leaving the block marks the span failed (`error.type`: its `code`, else its type) unless
    `is_error` says it is an expected outcome."""
    telemetry = setup.state()
    if telemetry is None:
        yield NO_SPAN
        return
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    context = _context_of(parent)
    links = []
    if context is not None and link_ambient:
        ambient = trace.get_current_span().get_span_context()
        parent_context = trace.get_current_span(context).get_span_context()
        if ambient.is_valid and ambient.trace_id != parent_context.trace_id:
            links.append(trace.Link(ambient))
    with telemetry.tracer.start_as_current_span(
        name,
        context=context,
        kind=_kind(kind),
        attributes=_clean(attributes),
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except Exception as error:
            if is_error(error):
                current.record_exception(error)
                current.set_status(Status(StatusCode.ERROR, str(error)[:300]))
                current.set_attribute(
                    "error.type", str(getattr(error, "code", "") or type(error).__qualname__)
                )
            raise


def finished_span(
    name: str,
    start: datetime,
    end: datetime,
    *,
    parent: TraceCarrier | None = None,
    attributes: SpanAttributes | None = None,
) -> None:
    """Record a span that already happened (the time a message spent on the queue)."""
    telemetry = setup.state()
    if telemetry is None:
        return
    recorded = telemetry.tracer.start_span(
        name, context=_context_of(parent), attributes=_clean(attributes), start_time=_nanoseconds(start)
    )
    recorded.end(end_time=max(_nanoseconds(end), _nanoseconds(start)))


def annotate(attributes: SpanAttributes) -> None:
    """Set attributes on the current span (nothing when telemetry is off)."""
    if setup.state() is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attributes(_clean(attributes))


def traced[**P, R](
    name: str, *, kind: SpanKind = "internal", is_error: Callable[[BaseException], bool] = _always
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """A span around every call of the decorated coroutine function."""

    def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name, kind=kind, is_error=is_error):
                return await function(*args, **kwargs)

        return wrapper

    return decorate


def current_trace_context() -> tuple[str, str | None]:
    """(traceparent, tracestate) of the current span, for a new job to carry; a new trace when no span is
    recording (telemetry off, or outside any span)."""
    if setup.state() is not None:
        from opentelemetry import propagate

        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        traceparent = parse_traceparent(carrier.get("traceparent"))
        if traceparent is not None:
            return traceparent, parse_tracestate(carrier.get("tracestate"))
    return new_traceparent(), None


def _context_of(carrier: TraceCarrier | None) -> Context | None:
    if carrier is None or parse_traceparent(carrier.traceparent) is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    headers = {"traceparent": carrier.traceparent or ""}
    if carrier.tracestate:
        headers["tracestate"] = carrier.tracestate
    return TraceContextTextMapPropagator().extract(headers)


def _kind(kind: SpanKind) -> Any:
    from opentelemetry.trace import SpanKind as OtelSpanKind

    return OtelSpanKind[kind.upper()]


def _clean(attributes: SpanAttributes | None) -> dict[str, AttributeValue]:
    return {key: value for key, value in (attributes or {}).items() if value is not None}


def _nanoseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)
