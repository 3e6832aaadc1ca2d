"""`python -m devtools.token --tenant org-1 --scope write:image-gen`: print a bearer token (JWT) that the
service accepts, signed by the development OIDC issuer `make dev` runs.

The issuer keeps its key and address in `.devdata/oidc` (or `$DEV_OIDC_DIR`); this command reads them, so
it works while `make dev` runs (and after a restart: the key is kept).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devtools.oidc.issuer import INFO_FILE, IssuerFiles

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / ".devdata" / "oidc"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.token", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", required=True, help="the tenant the token acts for")
    parser.add_argument(
        "--scope",
        action="append",
        default=[],
        help="a scope to grant (repeatable), e.g. write:image-gen or read:image-gen",
    )
    parser.add_argument("--subject", default="dev-user", help="the token's subject (sub), default dev-user")
    parser.add_argument(
        "--tenant-claim", default="tid", help="claim that carries the tenant (OIDC_TENANT_CLAIM)"
    )
    parser.add_argument("--expires-in", type=int, default=3600, help="lifetime in seconds (default 3600)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("DEV_OIDC_DIR") or DEFAULT_DIR),
        help="the issuer's directory (default $DEV_OIDC_DIR or .devdata/oidc)",
    )
    args = parser.parse_args(argv)
    if not (args.dir / INFO_FILE).exists():
        print(
            f"error: no development OIDC issuer in {args.dir}: start `make dev` (it runs the issuer there)",
            file=sys.stderr,
        )
        return 2
    files = IssuerFiles.read(args.dir)
    claims: dict[str, object] = {"sub": args.subject, args.tenant_claim: args.tenant}
    if args.scope:
        claims["scp"] = " ".join(args.scope)
    print(files.token(expires_in=args.expires_in, **claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
