"""The issuer: an RSA key kept in a directory, a discovery document and JWKS served over HTTP, tokens.

The directory holds `signing-key.pem` (the private key, mode 0600) and `issuer.json` (`issuer`,
`audience`, `kid`): whoever can read it (the token command) mints tokens the issuer's JWKS verifies. The
key is created on first start and kept, so tokens survive a restart of `make dev`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEV_AUDIENCE = "api://image-gen-local"
KEY_FILE = "signing-key.pem"
INFO_FILE = "issuer.json"


def _load_or_create_key(directory: Path | None) -> rsa.RSAPrivateKey:
    if directory is None:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey), f"{path} is not an RSA key"
        return key
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key


def _key_id(key: rsa.RSAPrivateKey) -> str:
    """A stable id for the key (a digest of its public half), so a restarted issuer keeps its kid."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(public).hexdigest()[:16]


def encode_token(
    *,
    key: rsa.RSAPrivateKey,
    kid: str,
    issuer: str,
    audience: str,
    expires_in: float = 3600,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": f"user-{uuid.uuid4().hex[:8]}",
        "iat": now,
        "nbf": now - 5,
        "exp": now + int(expires_in),
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


@dataclass(frozen=True)
class IssuerFiles:
    """What a running issuer wrote into its directory: enough to mint tokens it accepts."""

    issuer: str
    audience: str
    kid: str
    key: rsa.RSAPrivateKey

    @classmethod
    def read(cls, directory: Path) -> IssuerFiles:
        info = json.loads((directory / INFO_FILE).read_text())
        key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(issuer=info["issuer"], audience=info["audience"], kid=info["kid"], key=key)

    def token(self, *, expires_in: float = 3600, **claims: Any) -> str:
        return encode_token(
            key=self.key,
            kid=self.kid,
            issuer=self.issuer,
            audience=self.audience,
            expires_in=expires_in,
            **claims,
        )


class Issuer:
    """Serves `/.well-known/openid-configuration` and `/jwks`; mints tokens signed with its key.

    With `directory`, the key is kept there and `issuer.json` written on start (for the token command);
    without, the key lives in memory only."""

    def __init__(self, *, port: int = 0, audience: str = DEV_AUDIENCE, directory: Path | None = None) -> None:
        self.audience = audience
        self.directory = directory
        self.private_key = _load_or_create_key(directory)
        self.kid = _key_id(self.private_key)
        self.jwks_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        """Serve on a background thread."""
        self._write_info()
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted (the `python -m devtools.oidc` process)."""
        self._write_info()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def _write_info(self) -> None:
        if self.directory is not None:
            info = {"issuer": self.url, "audience": self.audience, "kid": self.kid}
            (self.directory / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def settings(self) -> dict[str, str]:
        """The app settings that make the service trust this issuer."""
        return {"OIDC_ISSUER": self.url, "OIDC_AUDIENCE": self.audience}

    def token(self, *, expires_in: float = 600, signing_key: Any = None, **claims: Any) -> str:
        return encode_token(
            key=signing_key or self.private_key,
            kid=self.kid,
            issuer=self.url,
            audience=self.audience,
            expires_in=expires_in,
            **claims,
        )

    def _jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path == "/.well-known/openid-configuration":
                    body = {
                        "issuer": issuer.url,
                        "jwks_uri": f"{issuer.url}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/jwks":
                    issuer.jwks_requests += 1
                    body = issuer._jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
