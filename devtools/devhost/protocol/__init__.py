"""The Functions host <-> worker messages, as the dev host hands them to azure-functions-runtime.

The runtime ships no protocol messages of its own: its host (the proxy worker in Azure, the dev host
here) passes a module of message classes as `properties["protos"]` with the first request. `protos` is
that module, compiled from `function_rpc.proto` by `make install`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

try:
    from devtools.devhost.protocol import function_rpc_pb2 as protos
except ModuleNotFoundError as missing:  # pragma: no cover - only before `make install`
    if missing.name != "devtools.devhost.protocol.function_rpc_pb2":
        raise
    raise ModuleNotFoundError(
        "devtools/devhost/protocol/function_rpc_pb2.py is compiled from function_rpc.proto by `make install`"
    ) from missing


@dataclass(frozen=True)
class WorkerRequest:
    """What the runtime's verbs take: `request` is the host's StreamingMessage, `properties` carries
    `protos` and `host` (the address HTTP streaming would listen on)."""

    name: str
    request: Any
    properties: dict[str, Any] = field(default_factory=dict)


__all__ = ["WorkerRequest", "protos"]
