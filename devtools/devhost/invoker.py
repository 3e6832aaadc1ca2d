"""Running a user function as the Python worker does: async ones on the event loop, sync ones on a
thread pool, each under the host's function timeout."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("devhost")


@dataclass
class FunctionSpec:
    """One indexed function: its name, bindings (function.json) and the user code."""

    name: str
    bindings: list[dict[str, Any]]
    user_function: Any
    trigger: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.trigger = next(b for b in self.bindings if b.get("type", "").endswith("Trigger"))

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])


class Invoker:
    def __init__(self, *, timeout: float | None, threads: int | None = None) -> None:
        self._timeout = timeout
        count = (
            threads
            or int(os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "0"))
            or min(32, (os.cpu_count() or 1) + 4)
        )
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="devhost-fn")
        self.in_flight = 0

    async def invoke(self, function: FunctionSpec, arguments: dict[str, Any], *, reason: str) -> Any:
        invocation_id = str(uuid.uuid4())
        logger.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id)
        started = time.perf_counter()
        self.in_flight += 1
        try:
            if inspect.iscoroutinefunction(function.user_function):
                pending = function.user_function(**arguments)
            else:
                loop = asyncio.get_running_loop()
                pending = loop.run_in_executor(
                    self._pool, functools.partial(function.user_function, **arguments)
                )
            result = await asyncio.wait_for(pending, self._timeout)
        except Exception:
            elapsed = (time.perf_counter() - started) * 1000
            logger.exception(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%.0fms)",
                function.name,
                invocation_id,
                elapsed,
            )
            raise
        finally:
            self.in_flight -= 1
        elapsed = (time.perf_counter() - started) * 1000
        logger.info(
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)",
            function.name,
            invocation_id,
            elapsed,
        )
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
