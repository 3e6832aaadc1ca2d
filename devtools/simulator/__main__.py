"""`python -m devtools.simulator [--port 8090] [--latency-ms 0]`: serve the provider simulator."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from devtools.simulator.app import create_app
from devtools.simulator.state import SimulatorState


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--latency-ms", type=int, default=0, help="delay before every provider answer")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app = create_app(SimulatorState(latency_ms=args.latency_ms))
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
