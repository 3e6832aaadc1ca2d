"""`python -m devtools.simulator [--port 8090] [--latency-ms 0] [--latency-spread-ms 0] [--seed N]`: serve the
provider simulator."""

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
    parser.add_argument(
        "--latency-spread-ms",
        type=int,
        default=0,
        help="each call's delay drawn uniformly within this of --latency-ms (never below 0)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the drawn delays (runs repeat)")
    args = parser.parse_args()
    if args.latency_spread_ms < 0:
        parser.error("--latency-spread-ms must be 0 or more")
    logging.basicConfig(level=logging.WARNING)
    state = SimulatorState(
        latency_ms=args.latency_ms, latency_spread_ms=args.latency_spread_ms, latency_seed=args.seed
    )
    app = create_app(state)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
