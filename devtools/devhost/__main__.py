"""`python -m devtools.devhost [--app-dir DIR] [--port 7071]`: serve a Function App locally.

Keys come from `DEVHOST_MASTER_KEY`, `DEVHOST_FUNCTION_KEY` and `DEVHOST_EVENTGRID_KEY` (random when
unset); `DEVHOST_QUEUE_LEASE_SECONDS` shortens the host's 10-minute queue message lease for tests."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import sys
from pathlib import Path

from aiohttp import web

from devtools.devhost.config import HostConfig, apply_settings, load_local_settings


async def serve(args: argparse.Namespace) -> None:
    app_dir = Path(args.app_dir).resolve()
    os.chdir(app_dir)
    apply_settings(load_local_settings(app_dir))
    from devtools.devhost.host import DevHost, HostKeys
    from devtools.devhost.queues import LEASE_SECONDS

    host = DevHost(
        app_dir,
        HostConfig.load(app_dir),
        keys=HostKeys(
            master=os.environ.get("DEVHOST_MASTER_KEY") or secrets.token_urlsafe(24),
            function=os.environ.get("DEVHOST_FUNCTION_KEY") or secrets.token_urlsafe(24),
            eventgrid=os.environ.get("DEVHOST_EVENTGRID_KEY") or secrets.token_urlsafe(24),
        ),
        enable_timers=not args.no_timers,
        queue_lease_seconds=float(os.environ.get("DEVHOST_QUEUE_LEASE_SECONDS") or LEASE_SECONDS),
    )
    await host.start()
    runner = web.AppRunner(host.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    logging.getLogger("devhost").info(
        "Dev host listening on http://%s:%d/%s (%s, %s; master key %s, function key %s)",
        args.host,
        args.port,
        host.config.route_prefix,
        host.worker.worker_metadata.get("worker"),
        host.worker.worker_metadata.get("runtime"),
        host.keys.master,
        host.keys.function,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await host.stop()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.devhost")
    parser.add_argument("--app-dir", default=".")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument(
        "--no-timers", action="store_true", help="index timer functions but do not schedule them"
    )
    args = parser.parse_args()
    logging.basicConfig(
        level=os.environ.get("DEVHOST_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("azure.core.pipeline.policies.http_logging_policy", "azure.cosmos", "azure.identity"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The worker logs every invocation's function name and type; the host's Executing/Executed lines suffice.
    logging.getLogger("azure.functions").setLevel(logging.WARNING)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
