"""`python -m devtools.eventgrid --port P --upstream-port U --webhook-base-url URL`: the Blob endpoint's
front end with Event Grid delivery; the connection string (`AzureWebJobsStorage`) gives the account, and
`DEVHOST_EVENTGRID_KEY` the Event Grid extension's system key."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path

from aiohttp import web
from azure.storage.blob.aio import BlobServiceClient

from devtools.eventgrid.delivery import Deliveries
from devtools.eventgrid.frontend import BlobFrontEnd
from devtools.eventgrid.subscriptions import SUBSCRIPTIONS_FILE, EventGridConfig


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.eventgrid")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="the Blob port the app's settings name")
    parser.add_argument("--upstream-port", type=int, required=True, help="Azurite's Blob port")
    parser.add_argument("--webhook-base-url", required=True, help="the dev host, e.g. http://127.0.0.1:7071")
    parser.add_argument("--config", default=str(SUBSCRIPTIONS_FILE))
    args = parser.parse_args()
    logging.basicConfig(
        level=os.environ.get("DEVHOST_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("azure").setLevel(logging.WARNING)
    upstream = f"http://{args.host}:{args.upstream_port}"
    connection = re.sub(
        r"BlobEndpoint=[^;]*",
        lambda match: f"BlobEndpoint={upstream}/{_account(os.environ['AzureWebJobsStorage'])}",
        os.environ["AzureWebJobsStorage"],
    )
    config = EventGridConfig.load(Path(args.config))
    deliveries = Deliveries(
        webhook_base_url=args.webhook_base_url,
        system_key=os.environ.get("DEVHOST_EVENTGRID_KEY", ""),
        retry_delays=config.retry_delays,
    )
    front_end = BlobFrontEnd(
        config,
        upstream_url=upstream,
        properties_client=BlobServiceClient.from_connection_string(connection),
        deliveries=deliveries,
    )
    web.run_app(front_end.web_app(), host=args.host, port=args.port, access_log=None, print=None)


def _account(connection_string: str) -> str:
    match = re.search(r"AccountName=([^;]+)", connection_string)
    return match.group(1) if match else "devstoreaccount1"


if __name__ == "__main__":
    main()
