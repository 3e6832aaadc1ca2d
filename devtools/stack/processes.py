"""Starting and stopping the stack's processes, each in its own process group so nothing is left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str, headers: dict[str, str] | None = None) -> Callable[[], bool]:
    def check() -> bool:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 - loopback only
                return bool(200 <= response.status < 500)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    return check


@dataclass
class ManagedProcess:
    name: str
    args: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 60.0) -> None:
        stdout: IO[bytes] | None = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = stdout = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env={**os.environ, **(self.env or {})},
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout else None,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path or 'output'}"
                )
            if self.ready():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.name} was not ready within {timeout:.0f}s; see {self.log_path or 'output'}"
        )

    def kill(self) -> None:
        """SIGKILL the process group, as a crash would end it: nothing gets to clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self, grace: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None
