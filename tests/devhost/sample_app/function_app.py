"""A Function App that exercises every trigger the dev host serves and reports what it saw."""

import asyncio
import json
import os
import threading

import azure.functions as func
import azure.functions.timer

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

_lock = threading.Lock()
STATE: dict = {
    "records": [],
    "failures": [],
    "slow": {"active": 0, "max": 0, "done": 0},
    "ticks": [],
    "events": [],
    "long": [],
    "hourly": [],
}


def _json(payload: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(payload), status_code=status, mimetype="application/json")


@app.route(route="hello/{name}", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return _json(
        {
            "method": req.method,
            "name": req.route_params["name"],
            "query": dict(req.params),
            "body": req.get_body().decode(),
            "thread": threading.current_thread().name,
            "header": req.headers.get("x-custom"),
            "headers": dict(req.headers),
            "routeParams": dict(req.route_params),
            "setting": os.environ.get("FROM_SETTINGS_FILE"),
        }
    )


@app.route(route="items/{id:int}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=204, headers={"x-item": req.route_params["id"]})


@app.route(route="secret", auth_level=func.AuthLevel.FUNCTION)
async def secret(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"ok": True})


@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
async def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"ok": True})


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
async def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("unhandled")


@app.route(route="switched-off", auth_level=func.AuthLevel.ANONYMOUS)
def switched_off(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("a disabled function ran")


@app.route(route="state", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def state(req: func.HttpRequest) -> func.HttpResponse:
    with _lock:
        return _json(STATE)


@app.queue_trigger(arg_name="msg", queue_name="%RECORD_QUEUE%", connection="AzureWebJobsStorage")
def record_message(msg: func.QueueMessage) -> None:
    with _lock:
        STATE["records"].append(
            {
                "id": msg.id,
                "body": msg.get_body().decode(),
                "dequeueCount": msg.dequeue_count,
                "hasInsertionTime": msg.insertion_time is not None,
                "hasPopReceipt": bool(msg.pop_receipt),
                "insertionTime": msg.insertion_time.isoformat() if msg.insertion_time else None,
                "expirationTime": msg.expiration_time.isoformat() if msg.expiration_time else None,
                "nextVisibleTime": msg.time_next_visible.isoformat() if msg.time_next_visible else None,
            }
        )


@app.queue_trigger(arg_name="msg", queue_name="failing", connection="AzureWebJobsStorage")
async def always_fails(msg: func.QueueMessage) -> None:
    with _lock:
        STATE["failures"].append({"body": msg.get_body().decode(), "dequeueCount": msg.dequeue_count})
    raise RuntimeError("this function always fails")


@app.queue_trigger(arg_name="msg", queue_name="slow", connection="AzureWebJobsStorage")
async def slow_worker(msg: func.QueueMessage) -> None:
    slow = STATE["slow"]
    slow["active"] += 1
    slow["max"] = max(slow["max"], slow["active"])
    await asyncio.sleep(0.4)
    slow["active"] -= 1
    slow["done"] += 1


@app.queue_trigger(arg_name="msg", queue_name="long", connection="AzureWebJobsStorage")
async def long_runner(msg: func.QueueMessage) -> None:
    # Runs longer than the test host's message lease (DEVHOST_QUEUE_LEASE_SECONDS), so only lease renewal
    # keeps the message from being delivered again meanwhile.
    with _lock:
        STATE["long"].append({"body": msg.get_body().decode(), "dequeueCount": msg.dequeue_count})
    await asyncio.sleep(float(msg.get_body().decode().split()[-1]))


@app.queue_trigger(arg_name="msg", queue_name="%SETTING_NOBODY_SET%", connection="AzureWebJobsStorage")
def misconfigured(msg: func.QueueMessage) -> None:
    raise AssertionError("a function whose queue name does not resolve never runs")


@app.timer_trigger(arg_name="timer", schedule="*/1 * * * * *", run_on_startup=True)
def ticker(timer: func.TimerRequest) -> None:
    with _lock:
        STATE["ticks"].append({"pastDue": timer.past_due, "status": _schedule_status(timer)})


@app.timer_trigger(arg_name="timer", schedule="0 0 * * * *", run_on_startup=True)
def hourly(timer: func.TimerRequest) -> None:
    with _lock:
        STATE["hourly"].append({"pastDue": timer.past_due, "status": _schedule_status(timer)})


def _schedule_status(timer: func.TimerRequest) -> dict:
    # The worker hands in its concrete TimerRequest, which carries the host's ScheduleStatus.
    assert isinstance(timer, azure.functions.timer.TimerRequest)
    return timer.schedule_status


@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    # The worker gives CloudEvents 1.0 deliveries as func.CloudEvent (type and source).
    if isinstance(event, func.CloudEvent):
        event_type, topic, schema = event.type, event.source, "cloudevents"
    else:
        event_type, topic, schema = event.event_type, event.topic, "eventgrid"
    with _lock:
        STATE["events"].append(
            {
                "id": event.id,
                "subject": event.subject,
                "eventType": event_type,
                "data": event.get_json(),
                "topic": topic,
                "schema": schema,
            }
        )
