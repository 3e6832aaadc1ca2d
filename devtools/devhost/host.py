"""The dev host itself: starts the worker, serves HTTP, runs queue listeners and timers, takes Event Grid
deliveries, with the Functions host's keys."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from devtools.devhost.config import HostConfig, resolve_binding_expression
from devtools.devhost.queues import LEASE_SECONDS, QueueListener
from devtools.devhost.routing import RouteTemplate, compile_route
from devtools.devhost.rpc_http import KeyIdentity, request_to_rpc, rpc_to_response
from devtools.devhost.storage import keep_host_calls_untraced, queue_client_for
from devtools.devhost.timers import TimerRunner
from devtools.devhost.trigger_data import event_grid_trigger
from devtools.devhost.worker import FunctionSpec, InvocationFailed, Worker

logger = logging.getLogger("devhost")

# The system key the Event Grid extension's webhook takes (listKeys().systemKeys.eventgrid_extension).
EVENTGRID_SYSTEM_KEY = "eventgrid_extension"
_EXPRESSION = re.compile(r"%[^%]+%")
# Origins the Event Grid extension echoes in a CloudEvents validation handshake; anything else gets the
# public cloud's.
_EVENTGRID_ORIGINS = {
    "eventgrid.azure.net",
    "eventgrid.azure.us",
    "eventgrid.azure.eaglex.ic.gov",
    "eventgrid.azure.microsoft.scloud",
    "eventgrid.azure.cn",
}


@dataclass(frozen=True)
class HostKeys:
    """The host's keys: the master key (admin level), the default function key, the Event Grid system key."""

    master: str
    function: str
    eventgrid: str

    def identify(self, presented: str) -> KeyIdentity | None:
        candidates = (
            (self.master, KeyIdentity("Admin", "master")),
            (self.function, KeyIdentity("Function", "default")),
            (self.eventgrid, KeyIdentity("System", EVENTGRID_SYSTEM_KEY)),
        )
        for key, identity in candidates:
            if key and presented and hmac.compare_digest(presented.encode(), key.encode()):
                return identity
        return None


def presented_key(request: web.Request) -> str:
    """A key as the host reads it: the `x-functions-key` header, else the `code` query parameter."""
    return request.headers.get("x-functions-key") or request.query.get("code") or ""


class HttpRoute:
    def __init__(self, function: FunctionSpec, route_prefix: str) -> None:
        self.function = function
        trigger = function.trigger
        route = trigger.get("route") or function.name
        self.template: RouteTemplate = compile_route(f"{route_prefix}/{route}" if route_prefix else route)
        methods = trigger.get("methods") or []
        self.methods = {m.upper() for m in methods} or None  # None: every method
        self.auth_level = str(trigger.get("authLevel", "FUNCTION")).upper()


def resolved_bindings(function: FunctionSpec) -> list[dict[str, Any]]:
    """The function's bindings with `%SETTING%` expressions replaced; a missing setting raises KeyError."""
    return [
        {
            name: resolve_binding_expression(value)
            if isinstance(value, str) and _EXPRESSION.search(value)
            else value
            for name, value in binding.items()
        }
        for binding in function.bindings
    ]


def function_disabled(name: str) -> bool:
    """The app setting `AzureWebJobs.<name>.Disabled` is true: the host starts no trigger for the function
    (its route answers 404, its queue is not read). The host's exception, running a disabled function with
    the master key, is not reproduced."""
    return os.environ.get(f"AzureWebJobs.{name}.Disabled", "").strip().lower() in ("true", "1")


class DevHost:
    def __init__(
        self,
        app_dir: Path,
        config: HostConfig,
        *,
        keys: HostKeys,
        enable_timers: bool = True,
        queue_lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.app_dir = app_dir
        self.config = config
        self.keys = keys
        self.enable_timers = enable_timers
        self.queue_lease_seconds = queue_lease_seconds
        self.worker = Worker(app_dir, timeout=config.function_timeout)
        self.functions: list[FunctionSpec] = []
        self.errors: dict[str, str] = {}
        self.disabled: list[str] = []
        self.routes: list[HttpRoute] = []
        self.listeners: list[QueueListener] = []
        self.timers: dict[str, TimerRunner] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.started_at = datetime.now(UTC)

    # --- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Index the app through the worker, then start what each function's trigger needs. A function
        whose bindings name a missing app setting is in error and not started; the others run."""
        functions = await self.worker.start()
        # From here on (listeners, timers, the HTTP server): the host's own calls, not the app's.
        keep_host_calls_untraced()
        for function in functions:
            if function_disabled(function.name):
                self.disabled.append(function.name)
                logger.info("Function %s is disabled by its app setting", function.name)
                continue
            try:
                bindings = resolved_bindings(function)
            except KeyError as missing:
                message = str(missing.args[0])
                self.errors[function.name] = message
                logger.error("The '%s' function is in error: %s", function.name, message)
                continue
            function.bindings = bindings
            function.trigger = next(b for b in bindings if str(b.get("type", "")).endswith("Trigger"))
            self.functions.append(function)
            self._start_trigger(function)
        self.routes.sort(key=lambda r: r.template.precedence)
        for function in self.functions:
            logger.info("Function %s: %s", function.name, self._describe(function))

    def _start_trigger(self, function: FunctionSpec) -> None:
        trigger = function.trigger
        if function.trigger_type == "httpTrigger":
            self.routes.append(HttpRoute(function, self.config.route_prefix))
        elif function.trigger_type == "queueTrigger":
            queue_name = str(trigger["queueName"])
            connection = str(trigger.get("connection") or "AzureWebJobsStorage")
            listener = QueueListener(
                function,
                queue_client_for(connection, queue_name),
                queue_client_for(connection, f"{queue_name}-poison"),
                self.config.queues,
                self.worker,
                lease_seconds=self.queue_lease_seconds,
            )
            self.listeners.append(listener)
            self._tasks.append(asyncio.create_task(listener.run(), name=f"queue:{function.name}"))
        elif function.trigger_type == "timerTrigger":
            runner = TimerRunner(function, self.worker, str(trigger["schedule"]))
            self.timers[function.name] = runner
            if self.enable_timers:
                self._tasks.append(asyncio.create_task(runner.run(), name=f"timer:{function.name}"))

    async def stop(self) -> None:
        await asyncio.gather(*(listener.stop() for listener in self.listeners))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(listener.close() for listener in self.listeners))
        self.worker.stop()

    def _describe(self, function: FunctionSpec) -> str:
        trigger = function.trigger
        if function.trigger_type == "httpTrigger":
            methods = ",".join(trigger.get("methods") or ["*"])
            return f"[{methods}] /{self.config.route_prefix}/{trigger.get('route') or function.name}"
        if function.trigger_type == "queueTrigger":
            return f"queueTrigger on {trigger['queueName']}"
        if function.trigger_type == "timerTrigger":
            return f"timerTrigger {trigger['schedule']}" + ("" if self.enable_timers else " (disabled)")
        return function.trigger_type

    # --- HTTP ---------------------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_get("/admin/host/status", self._host_status)
        app.router.add_get("/admin/functions", self._list_functions)
        app.router.add_post("/admin/functions/{name}", self._run_function)
        app.router.add_route("*", "/admin/{tail:.*}", self._admin_other)
        app.router.add_route("*", "/runtime/webhooks/eventgrid", self._eventgrid)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    def _is_master(self, request: web.Request) -> bool:
        identity = self.keys.identify(presented_key(request))
        return identity is not None and identity.level == "Admin"

    async def _host_status(self, request: web.Request) -> web.Response:
        if not self._is_master(request):
            return web.Response(status=401)
        return web.json_response(
            {
                "state": "Running",
                **self.worker.worker_metadata,
                "functions": [f.name for f in self.functions],
                "errors": self.errors,
                "disabled": self.disabled,
                "startedAt": self.started_at.isoformat(),
                "inFlight": self.worker.in_flight,
                "queues": {
                    listener.function.name: {
                        "queue": listener.queue_name,
                        "maxConcurrencySeen": listener.max_concurrency_seen,
                        "leaseRenewals": listener.lease_renewals,
                    }
                    for listener in self.listeners
                },
            }
        )

    async def _list_functions(self, request: web.Request) -> web.Response:
        if not self._is_master(request):
            return web.Response(status=401)
        return web.json_response([{"name": f.name, "bindings": f.bindings} for f in self.functions])

    async def _run_function(self, request: web.Request) -> web.Response:
        """Core Tools' way to run a non-HTTP function by hand (admin key)."""
        if not self._is_master(request):
            return web.Response(status=401)
        name = request.match_info["name"]
        runner = self.timers.get(name)
        if runner is None:
            return web.Response(status=404, text=f"no timer function named {name}")
        await runner.fire_now()
        return web.Response(status=202)

    async def _admin_other(self, request: web.Request) -> web.Response:
        return web.Response(status=404 if self._is_master(request) else 401)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        allowed_elsewhere = False
        for route in self.routes:
            params = route.template.match(path)
            if params is None:
                continue
            if route.methods is not None and request.method.upper() not in route.methods:
                allowed_elsewhere = True
                continue
            identity = self.keys.identify(presented_key(request))
            if not _permits(route.auth_level, identity):
                return web.Response(status=401)
            return await self._invoke_http(route, request, params, identity)
        return web.Response(status=405 if allowed_elsewhere else 404)

    async def _invoke_http(
        self, route: HttpRoute, request: web.Request, params: dict[str, str], identity: KeyIdentity | None
    ) -> web.StreamResponse:
        trigger = await request_to_rpc(request, params, identity)
        try:
            value = await self.worker.invoke(
                route.function,
                trigger,
                reason="This function was programmatically called via the host APIs.",
                traceparent=request.headers.get("traceparent"),
                tracestate=request.headers.get("tracestate"),
            )
        except InvocationFailed:
            return web.Response(status=500)
        return rpc_to_response(value)

    async def _eventgrid(self, request: web.Request) -> web.StreamResponse:
        """`/runtime/webhooks/eventgrid?functionName=NAME`, as the Event Grid extension serves it: the
        system key (or the master key), then the `aeg-event-type` header decides."""
        identity = self.keys.identify(presented_key(request))
        if identity is None or identity.level not in ("Admin", "System"):
            return web.Response(status=401)
        name = request.query.get("functionName", "")
        function = next(
            (f for f in self.functions if f.name == name and f.trigger_type == "eventGridTrigger"), None
        )
        if function is None:
            return web.Response(status=404, text=f"cannot find function: '{name}'")
        if request.method == "OPTIONS":
            origin = request.headers.get("WebHook-Request-Origin", "")
            allowed = origin if origin in _EVENTGRID_ORIGINS else "eventgrid.azure.net"
            return web.Response(status=200, headers={"Webhook-Allowed-Origin": allowed})
        event_type = request.headers.getall("aeg-event-type", [""])[0].lower()
        if event_type == "subscriptionvalidation":
            payload = await _json_body(request)
            data = payload[0]["data"] if isinstance(payload, list) else json.loads(str(payload["data"]))
            return web.json_response({"validationResponse": data["validationCode"]})
        if event_type == "notification":
            payload = await _json_body(request)
            events = payload if isinstance(payload, list) else [payload]
            results = await asyncio.gather(
                *(self._invoke_event(function, event) for event in events), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    return web.Response(status=500, text=str(result))
            return web.Response(status=202)
        if event_type == "unsubscribe":
            return web.Response(status=202)
        return web.Response(status=400)

    async def _invoke_event(self, function: FunctionSpec, event: Any) -> None:
        trigger, metadata = event_grid_trigger(event)
        await self.worker.invoke(
            function,
            trigger,
            trigger_metadata=metadata,
            reason=f"EventGrid trigger fired at {datetime.now(UTC).isoformat()}",
        )


def _permits(auth_level: str, identity: KeyIdentity | None) -> bool:
    if auth_level == "ANONYMOUS":
        return True
    if identity is None:
        return False
    if auth_level == "ADMIN":
        return identity.level == "Admin"
    return identity.level in ("Admin", "Function")


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as error:
        raise web.HTTPInternalServerError(text=f"the request content is not JSON: {error}") from error
