"""A development OIDC issuer on loopback: discovery document, JWKS, and tokens signed with its key.

`make dev` runs it (`python -m devtools.oidc`) and points the dev host at it; `python -m devtools.token`
mints tokens with the same key, read from the issuer's directory (`.devdata/oidc`). The integration
tests run it in process.
"""

from devtools.oidc.issuer import DEV_AUDIENCE, Issuer, IssuerFiles

__all__ = ["DEV_AUDIENCE", "Issuer", "IssuerFiles"]
