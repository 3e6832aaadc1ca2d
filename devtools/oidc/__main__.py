"""`python -m devtools.oidc --port 8091 --dir .devdata/oidc`: serve the development issuer until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from devtools.oidc.issuer import DEV_AUDIENCE, Issuer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.oidc", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="loopback port to listen on")
    parser.add_argument("--dir", type=Path, required=True, help="where the signing key and issuer.json live")
    parser.add_argument("--audience", default=DEV_AUDIENCE, help=f"audience of its tokens ({DEV_AUDIENCE})")
    args = parser.parse_args()
    issuer = Issuer(port=args.port, audience=args.audience, directory=args.dir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"OIDC issuer {issuer.url} (audience {issuer.audience}, keys in {args.dir})", flush=True)
    try:
        issuer.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
