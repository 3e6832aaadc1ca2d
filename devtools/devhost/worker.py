"""The Python worker, in process: azure-functions-runtime driven with the host's protocol messages.

The Functions host talks to the Python worker over gRPC; since Python 3.13 that worker is a thin proxy
that hands each message to `azure-functions-runtime` (the version requirements.txt pins) as a coroutine
call. The dev host makes the same calls the proxy makes, in this process: `worker_init_request` (which
indexes the app), `functions_metadata_request`, `function_load_request` per function and
`invocation_request` per execution, each with a StreamingMessage of `devtools.devhost.protocol`.
Sync functions run on the runtime's own thread pool (`PYTHON_THREADPOOL_THREAD_COUNT`), async ones on
this event loop, exactly as in Azure.

Each invocation runs in a task of its own, from the context the worker was initialized in, as the
worker's dispatcher runs each request it receives: what the worker attaches to its context for one
invocation (the invocation's trace context, with `PYTHON_ENABLE_OPENTELEMETRY`) stays with it. Each
invocation gets a W3C trace context, as the host sends its invocation's: an HTTP request's own
`traceparent` is continued, anything else starts a new trace, sampled (the host with `telemetryMode`
`OpenTelemetry` records its invocations).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import secrets
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure_functions_runtime as runtime

from devtools.devhost.protocol import WorkerRequest, protos

logger = logging.getLogger("devhost")

HOST_VERSION = "4.1000.0"
_TRACEPARENT = re.compile(r"00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-([0-9a-f]{2})")


class WorkerError(RuntimeError):
    """The worker answered a request with a failure status."""


class InvocationFailed(WorkerError):
    """The function raised (or timed out); the message is the worker's exception text."""


@dataclass
class FunctionSpec:
    """One function as the worker indexed it: its name, id and function.json bindings."""

    name: str
    function_id: str
    bindings: list[dict[str, Any]]
    trigger: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.trigger = next(b for b in self.bindings if str(b.get("type", "")).endswith("Trigger"))

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])

    @property
    def trigger_name(self) -> str:
        return str(self.trigger["name"])


def _failure(result: Any) -> str | None:
    if result.status == protos.StatusResult.Success:
        return None
    return str(result.exception.message or result.result or "failed")


def _stack_trace(response: Any) -> str:
    return str(response.result.exception.stack_trace) if response is not None else ""


class Worker:
    def __init__(self, app_dir: Path, *, timeout: float | None) -> None:
        self.app_dir = app_dir
        self._timeout = timeout
        self.in_flight = 0
        self.worker_metadata: dict[str, str] = {}
        self._invocation_context = contextvars.copy_context()

    async def start(self) -> list[FunctionSpec]:
        """Initialize the worker (it indexes `function_app.py`) and load every function it reports."""
        if str(self.app_dir) not in sys.path:
            sys.path.insert(0, str(self.app_dir))
        runtime.start_threadpool_executor()
        init = await runtime.worker_init_request(
            WorkerRequest(
                "WorkerInitRequest",
                protos.StreamingMessage(
                    request_id=str(uuid.uuid4()),
                    worker_init_request=protos.WorkerInitRequest(
                        host_version=HOST_VERSION, function_app_directory=str(self.app_dir)
                    ),
                ),
                properties={"protos": protos, "host": "127.0.0.1"},
            )
        )
        if (error := _failure(init.result)) is not None:
            raise WorkerError(f"the worker could not index {self.app_dir}: {error}")
        self._invocation_context = contextvars.copy_context()
        metadata = init.worker_metadata
        self.worker_metadata = {
            "runtime": f"{metadata.runtime_name} {metadata.runtime_version}",
            "worker": f"azure-functions-runtime {metadata.worker_version}",
        }
        listing = await runtime.functions_metadata_request(
            WorkerRequest(
                "FunctionsMetadataRequest",
                protos.StreamingMessage(
                    functions_metadata_request=protos.FunctionsMetadataRequest(
                        function_app_directory=str(self.app_dir)
                    )
                ),
            )
        )
        if (error := _failure(listing.result)) is not None:
            raise WorkerError(f"the worker reported no functions: {error}")
        functions = []
        for entry in listing.function_metadata_results:
            loaded = await runtime.function_load_request(
                WorkerRequest(
                    "FunctionLoadRequest",
                    protos.StreamingMessage(
                        function_load_request=protos.FunctionLoadRequest(
                            function_id=entry.function_id, metadata=entry
                        )
                    ),
                )
            )
            if (error := _failure(loaded.result)) is not None:
                raise WorkerError(f"the worker could not load {entry.name}: {error}")
            functions.append(
                FunctionSpec(
                    name=entry.name,
                    function_id=entry.function_id,
                    bindings=[json.loads(raw) for raw in entry.raw_bindings],
                )
            )
        return functions

    async def invoke(
        self,
        function: FunctionSpec,
        trigger: Any,
        *,
        trigger_metadata: dict[str, Any] | None = None,
        reason: str,
        retry_count: int = 0,
        max_retry_count: int = 0,
        traceparent: str | None = None,
        tracestate: str | None = None,
    ) -> Any:
        """Send one InvocationRequest with `trigger` (a TypedData) as the trigger binding's input and
        return the worker's `return_value` TypedData; a failed invocation raises InvocationFailed.
        `traceparent`/`tracestate`: the caller's trace context (an HTTP request's headers)."""
        invocation_id = str(uuid.uuid4())
        trace_parent = invocation_traceparent(traceparent)
        continued = _TRACEPARENT.fullmatch((traceparent or "").strip().lower()) is not None
        trace_state = tracestate or "" if continued else ""
        request = protos.InvocationRequest(
            invocation_id=invocation_id,
            function_id=function.function_id,
            input_data=[protos.ParameterBinding(name=function.trigger_name, data=trigger)],
            trigger_metadata=trigger_metadata or {},
            trace_context=protos.RpcTraceContext(trace_parent=trace_parent, trace_state=trace_state),
            retry_context=protos.RetryContext(retry_count=retry_count, max_retry_count=max_retry_count),
        )
        logger.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id)
        started = time.perf_counter()
        self.in_flight += 1
        try:
            invocation = asyncio.get_running_loop().create_task(
                runtime.invocation_request(
                    WorkerRequest("InvocationRequest", protos.StreamingMessage(invocation_request=request))
                ),
                name=f"invocation:{function.name}",
                context=self._invocation_context.copy(),
            )
            response = await asyncio.wait_for(invocation, self._timeout)
            error = _failure(response.result)
        except TimeoutError:
            error = f"Timeout value of {self._timeout:.0f} seconds was exceeded by function: {function.name}"
            response = None
        finally:
            self.in_flight -= 1
        elapsed = (time.perf_counter() - started) * 1000
        if error is not None:
            logger.error(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%.0fms): %s\n%s",
                function.name,
                invocation_id,
                elapsed,
                error,
                _stack_trace(response),
            )
            raise InvocationFailed(error)
        logger.info(
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)",
            function.name,
            invocation_id,
            elapsed,
        )
        assert response is not None
        return response.return_value if response.HasField("return_value") else None

    def stop(self) -> None:
        runtime.stop_threadpool_executor()


def invocation_traceparent(incoming: str | None = None) -> str:
    """The invocation's W3C traceparent, as the host sends its invocation activity's id: a new span in
    the `incoming` trace when that is a valid traceparent, else in a new sampled trace."""
    match = _TRACEPARENT.fullmatch((incoming or "").strip().lower())
    if match is None:
        return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    return f"00-{match[1]}-{secrets.token_hex(8)}-{match[2]}"
