"""The dev host itself: indexes the app, serves HTTP, runs queue listeners and timers."""

from __future__ import annotations

import asyncio
import hmac
import importlib
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
from aiohttp import web

from devtools.devhost.config import HostConfig, resolve_binding_expression
from devtools.devhost.invoker import FunctionSpec, Invoker
from devtools.devhost.queues import QueueListener
from devtools.devhost.routing import RouteTemplate, compile_route
from devtools.devhost.storage import queue_client_for
from devtools.devhost.timers import TimerRunner

logger = logging.getLogger("devhost")

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def index_functions(app_dir: Path, module: str = "function_app") -> list[FunctionSpec]:
    """Import the app and read its functions as the host's worker indexing does."""
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    app = importlib.import_module(module).app
    functions = []
    for function in app.get_functions():
        metadata = json.loads(function.get_function_json())
        functions.append(
            FunctionSpec(
                name=function.get_function_name(),
                bindings=metadata["bindings"],
                user_function=function.get_user_function(),
            )
        )
    return functions


class HttpRoute:
    def __init__(self, function: FunctionSpec, route_prefix: str) -> None:
        self.function = function
        trigger = function.trigger
        route = trigger.get("route") or function.name
        self.template: RouteTemplate = compile_route(f"{route_prefix}/{route}" if route_prefix else route)
        methods = trigger.get("methods") or []
        self.methods = {m.upper() for m in methods} or None  # None: every method
        self.auth_level = str(trigger.get("authLevel", "FUNCTION")).upper()


class DevHost:
    def __init__(
        self,
        app_dir: Path,
        config: HostConfig,
        *,
        master_key: str,
        function_key: str,
        enable_timers: bool = True,
    ) -> None:
        self.app_dir = app_dir
        self.config = config
        self.master_key = master_key
        self.function_key = function_key
        self.enable_timers = enable_timers
        self.invoker = Invoker(timeout=config.function_timeout)
        self.functions = index_functions(app_dir)
        self.routes = sorted(
            (HttpRoute(f, config.route_prefix) for f in self.functions if f.trigger_type == "httpTrigger"),
            key=lambda r: r.template.precedence,
        )
        self.listeners: list[QueueListener] = []
        self.timers: dict[str, TimerRunner] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.started_at = datetime.now(UTC)

    # --- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        for function in self.functions:
            if function.trigger_type == "queueTrigger":
                queue_name = resolve_binding_expression(str(function.trigger["queueName"]))
                connection = str(function.trigger.get("connection") or "AzureWebJobsStorage")
                listener = QueueListener(
                    function,
                    queue_client_for(connection, queue_name),
                    queue_client_for(connection, f"{queue_name}-poison"),
                    self.config.queues,
                    self.invoker,
                )
                self.listeners.append(listener)
                self._tasks.append(asyncio.create_task(listener.run(), name=f"queue:{function.name}"))
            elif function.trigger_type == "timerTrigger":
                runner = TimerRunner(function, self.invoker)
                self.timers[function.name] = runner
                if self.enable_timers:
                    self._tasks.append(asyncio.create_task(runner.run(), name=f"timer:{function.name}"))
        for function in self.functions:
            logger.info("Function %s: %s", function.name, self._describe(function))

    async def stop(self) -> None:
        await asyncio.gather(*(listener.stop() for listener in self.listeners))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.invoker.close()

    def _describe(self, function: FunctionSpec) -> str:
        trigger = function.trigger
        if function.trigger_type == "httpTrigger":
            methods = ",".join(trigger.get("methods") or ["*"])
            return f"[{methods}] /{self.config.route_prefix}/{trigger.get('route') or function.name}"
        if function.trigger_type == "queueTrigger":
            return f"queueTrigger on {resolve_binding_expression(str(trigger['queueName']))}"
        if function.trigger_type == "timerTrigger":
            return f"timerTrigger {trigger['schedule']}" + ("" if self.enable_timers else " (disabled)")
        return function.trigger_type

    # --- HTTP ---------------------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_get("/admin/host/status", self._host_status)
        app.router.add_get("/admin/functions", self._list_functions)
        app.router.add_post("/admin/functions/{name}", self._run_function)
        app.router.add_route("*", "/runtime/webhooks/eventgrid", self._eventgrid)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def _host_status(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "state": "Running",
                "functions": [f.name for f in self.functions],
                "startedAt": self.started_at.isoformat(),
                "inFlight": self.invoker.in_flight,
                "queues": {
                    listener.function.name: {
                        "queue": listener.queue_name,
                        "maxConcurrencySeen": listener.max_concurrency_seen,
                    }
                    for listener in self.listeners
                },
            }
        )

    async def _list_functions(self, request: web.Request) -> web.Response:
        if not self._authorized(request, "ADMIN"):
            return web.Response(status=401)
        return web.json_response([{"name": f.name, "bindings": f.bindings} for f in self.functions])

    async def _run_function(self, request: web.Request) -> web.Response:
        """Core Tools' way to run a non-HTTP function by hand (admin key)."""
        if not self._authorized(request, "ADMIN"):
            return web.Response(status=401)
        name = request.match_info["name"]
        runner = self.timers.get(name)
        if runner is None:
            return web.Response(status=404, text=f"no timer function named {name}")
        await runner.fire_now()
        return web.Response(status=202)

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
            if not self._authorized(request, route.auth_level):
                return web.Response(status=401)
            return await self._invoke_http(route, request, params)
        return web.Response(status=405 if allowed_elsewhere else 404)

    def _authorized(self, request: web.Request, level: str) -> bool:
        if level == "ANONYMOUS":
            return True
        presented = request.headers.get("x-functions-key") or request.query.get("code") or ""
        keys = [self.master_key] if level == "ADMIN" else [self.master_key, self.function_key]
        return any(key and hmac.compare_digest(presented.encode(), key.encode()) for key in keys)

    async def _invoke_http(
        self, route: HttpRoute, request: web.Request, params: dict[str, str]
    ) -> web.StreamResponse:
        body = await request.read()
        http_request = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=dict(request.headers),
            params=dict(request.query),
            route_params=params,
            body=body,
        )
        try:
            result = await self.invoker.invoke(
                route.function,
                {str(route.function.trigger["name"]): http_request},
                reason="This function was programmatically called via the host APIs.",
            )
        except Exception:
            return web.Response(status=500)
        if not isinstance(result, func.HttpResponse):
            logger.error("Function %s returned %r, not an HttpResponse", route.function.name, type(result))
            return web.Response(status=500)
        return _to_aiohttp(result)

    async def _eventgrid(self, request: web.Request) -> web.StreamResponse:
        """`/runtime/webhooks/eventgrid?functionName=NAME`: Event Grid schema and CloudEvents 1.0."""
        if request.method == "OPTIONS":
            # CloudEvents webhook validation handshake.
            origin = request.headers.get("WebHook-Request-Origin", "*")
            return web.Response(
                status=200, headers={"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"}
            )
        if request.method != "POST":
            return web.Response(status=405)
        name = request.query.get("functionName", "")
        function = next(
            (f for f in self.functions if f.name == name and f.trigger_type == "eventGridTrigger"), None
        )
        if function is None:
            return web.Response(status=404, text=f"no Event Grid function named {name!r}")
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="body is not JSON")
        events = payload if isinstance(payload, list) else [payload]
        for event in events:
            if not isinstance(event, dict):
                return web.Response(status=400, text="an event is not an object")
            if event.get("eventType") == "Microsoft.EventGrid.SubscriptionValidationEvent":
                code = (event.get("data") or {}).get("validationCode")
                return web.json_response({"validationResponse": code})
        for event in events:
            try:
                grid_event = _to_eventgrid_event(event)
            except KeyError as missing:
                return web.Response(status=400, text=f"event lacks {missing}")
            try:
                await self.invoker.invoke(
                    function,
                    {str(function.trigger["name"]): grid_event},
                    reason=f"EventGrid trigger fired at {datetime.now(UTC).isoformat()}",
                )
            except Exception:
                return web.Response(status=500)
        return web.Response(status=200)


def _to_eventgrid_event(event: dict[str, Any]) -> func.EventGridEvent:
    if "specversion" in event:  # CloudEvents 1.0
        return func.EventGridEvent(
            id=event["id"],
            data=event.get("data") or {},
            topic=event.get("source", ""),
            subject=event.get("subject", ""),
            event_type=event["type"],
            event_time=_parse_time(event.get("time")),
            data_version=event.get("dataschema", "") or "",
        )
    return func.EventGridEvent(
        id=event["id"],
        data=event.get("data") or {},
        topic=event.get("topic", ""),
        subject=event["subject"],
        event_type=event["eventType"],
        event_time=_parse_time(event.get("eventTime")),
        data_version=event.get("dataVersion", ""),
    )


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _to_aiohttp(result: func.HttpResponse) -> web.Response:
    headers = {k: v for k, v in result.headers.items() if k.lower() not in _HOP_BY_HOP}
    if not any(k.lower() == "content-type" for k in headers) and result.mimetype:
        charset = result.charset
        textual = result.mimetype.startswith("text/") or result.mimetype.endswith("json")
        headers["Content-Type"] = (
            f"{result.mimetype}; charset={charset}" if textual and charset else result.mimetype
        )
    return web.Response(status=result.status_code, body=result.get_body(), headers=headers)
