"""`make dev`'s development OIDC issuer and `python -m devtools.token`: run as processes, they agree on the
key (kept in the issuer's directory), and the service's token verification accepts what the command prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from devtools.oidc import DEV_AUDIENCE
from devtools.stack.processes import ManagedProcess, free_port, http_ok
from devtools.stack.stack import DEV_OIDC_PORT, ROOT, LocalStack
from shared.auth.tokens import JwksCache, verify_token
from shared.settings import Settings

pytestmark = pytest.mark.integration


def _token(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.token", "--dir", str(directory), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _issuer(directory: Path, port: int) -> ManagedProcess:
    return ManagedProcess(
        "oidc",
        [sys.executable, "-m", "devtools.oidc", "--port", str(port), "--dir", str(directory)],
        ready=http_ok(f"http://127.0.0.1:{port}/.well-known/openid-configuration"),
        cwd=ROOT,
        log_path=directory / "oidc.log",
    )


async def _verify(token: str, issuer: str) -> dict[str, object]:
    settings = Settings(COSMOS_ENDPOINT="http://127.0.0.1:1", OIDC_ISSUER=issuer, OIDC_AUDIENCE=DEV_AUDIENCE)
    return await verify_token(token, settings, JwksCache(settings))


async def test_the_token_command_mints_what_the_running_issuer_verifies(tmp_path: Path) -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = _issuer(tmp_path, port)
    process.start()
    try:
        result = _token(
            tmp_path, "--tenant", "org-1", "--scope", "write:image-gen", "--scope", "read:image-gen"
        )
        token = result.stdout.strip()
        claims = await _verify(token, issuer)
    finally:
        process.stop()
    restarted = _issuer(tmp_path, port)
    restarted.start()
    try:
        after_restart = await _verify(token, issuer)  # the key is kept: earlier tokens stay valid
    finally:
        restarted.stop()

    assert claims["tid"] == "org-1" and claims["scp"] == "write:image-gen read:image-gen"
    assert claims["iss"] == issuer and claims["aud"] == DEV_AUDIENCE and claims["sub"] == "dev-user"
    assert after_restart == claims
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert (tmp_path / "signing-key.pem").stat().st_mode & 0o077 == 0


def test_without_a_running_issuer_the_command_says_to_start_make_dev(tmp_path: Path) -> None:
    result = _token(tmp_path / "absent", "--tenant", "org-1")

    assert result.returncode == 2 and "make dev" in result.stderr


def test_make_dev_starts_the_issuer_unless_local_settings_name_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "devtools.stack.stack.load_local_settings", lambda root: {"COSMOS_ENDPOINT": "http://x"}
    )
    assert LocalStack.from_local_settings().oidc_port == DEV_OIDC_PORT
    assert LocalStack.from_local_settings().oidc_dir == ROOT / ".devdata" / "oidc"

    monkeypatch.setattr(
        "devtools.stack.stack.load_local_settings",
        lambda root: {"OIDC_ISSUER": "https://login.example.com/t/v2.0"},
    )
    assert LocalStack.from_local_settings().oidc_port is None
