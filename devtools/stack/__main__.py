"""`python -m devtools.stack`: start the whole local stack, print the API URL and dev key, stop on Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from devtools.stack.stack import LocalStack


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.stack")
    parser.add_argument("--port", type=int, default=7071, help="port of the API (dev host)")
    args = parser.parse_args()
    stack = LocalStack.from_local_settings(api_port=args.port)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    print("Starting Azurite, Event Grid, Cosmos DB emulator, provider simulator and dev host ...", flush=True)
    try:
        stack.start()
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    key = stack.values.get("DEV_API_KEY", "(DEV_API_KEY is not set)")
    simulator = stack.endpoints.simulator_url
    providers = f"simulator at {simulator}" if simulator else "real services from local.settings.json"
    issuer = stack.values.get("OIDC_ISSUER", "(none)")
    if stack.oidc_port is not None:
        issuer += " (a token: .venv/bin/python -m devtools.token --tenant org-1 --scope write:image-gen)"
    print(
        "\n"
        f"  API:          {stack.endpoints.api_url}\n"
        f"  Dev API key:  {key}\n"
        f"  Providers:    {providers}\n"
        f"  OIDC issuer:  {issuer}\n"
        f"  Logs:         {stack.log_dir}\n"
        f"  Playground:   {stack.endpoints.api_url}/playground\n"
        "\n"
        f"  curl -s -X POST {stack.endpoints.api_url}/v1/images/generations \\\n"
        f"       -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\\n"
        '       -d \'{"prompt": "a lighthouse at dawn", "aspectRatio": "16:9"}\'\n'
        "\n"
        "Press Ctrl-C to stop everything.",
        flush=True,
    )
    try:
        while not stopping.wait(1):
            for process in stack.processes:
                if process.process is not None and process.process.poll() is not None:
                    print(f"error: {process.name} exited with {process.process.returncode}", file=sys.stderr)
                    stopping.set()
    finally:
        print("Stopping ...", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
