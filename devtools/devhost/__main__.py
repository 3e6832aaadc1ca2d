"""`python -m devtools.devhost [--app-dir DIR] [--port 7071]`: serve a Function App locally."""

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
    eventgrid_config = Path(args.eventgrid_config).resolve() if args.eventgrid_config else None
    os.chdir(app_dir)
    apply_settings(load_local_settings(app_dir))
    from devtools.devhost.host import DevHost

    host = DevHost(
        app_dir,
        HostConfig.load(app_dir),
        master_key=os.environ.get("DEVHOST_MASTER_KEY") or secrets.token_urlsafe(24),
        function_key=os.environ.get("DEVHOST_FUNCTION_KEY") or secrets.token_urlsafe(24),
        enable_timers=not args.no_timers,
    )
    runner = web.AppRunner(host.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    await host.start()
    watcher_task = None
    if eventgrid_config is not None:
        from devtools.devhost.blobwatcher import BlobWatcher, WatcherConfig

        watcher = BlobWatcher(
            WatcherConfig.load(eventgrid_config), webhook_base_url=f"http://{args.host}:{args.port}"
        )
        watcher_task = asyncio.create_task(watcher.run(), name="eventgrid:blobs")
    logging.getLogger("devhost").info(
        "Dev host listening on http://%s:%d/%s (master key %s, function key %s)",
        args.host,
        args.port,
        host.config.route_prefix,
        host.master_key,
        host.function_key,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if watcher_task is not None:
        await watcher.stop()
        await watcher_task
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
    parser.add_argument(
        "--eventgrid-config",
        help="Event Grid subscriptions to emulate for blobs (e.g. devtools/devhost/eventgrid.local.json)",
    )
    args = parser.parse_args()
    logging.basicConfig(
        level=os.environ.get("DEVHOST_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("azure.core.pipeline.policies.http_logging_policy", "azure.cosmos", "azure.identity"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
