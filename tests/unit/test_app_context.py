"""The app's clients are closed when the worker's event loop ends (the Python worker has no shutdown hook)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from devtools.stack.stack import ROOT
from shared import app_context
from shared.settings import Settings


class Closable:
    def __init__(self, log: list[str], name: str) -> None:
        self._log, self._name = log, name

    async def close(self) -> None:
        self._log.append(self._name)

    async def aclose(self) -> None:
        self._log.append(self._name)


def local_settings() -> Settings:
    values = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    return Settings(**values)


def test_aclose_closes_every_client_and_the_providers() -> None:
    closed: list[str] = []
    context = dataclasses.replace(
        app_context.build_context(local_settings()),
        clients=(Closable(closed, "cosmos"), Closable(closed, "queue"), Closable(closed, "blob")),
        providers=Closable(closed, "providers"),  # type: ignore[arg-type]
    )

    asyncio.run(context.aclose())

    assert sorted(closed) == ["blob", "cosmos", "providers", "queue"]


def test_the_context_is_closed_when_the_loop_running_the_worker_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    fake: Any = Closable(closed, "context")
    monkeypatch.setattr(app_context, "build_context", lambda settings: fake)
    monkeypatch.setattr(app_context, "get_settings", lambda: None)
    monkeypatch.setattr(app_context, "_context", None)

    async def worker() -> None:  # the worker's main coroutine: an invocation builds the context, then it ends
        assert app_context.get_context() is fake
        await asyncio.sleep(0)
        assert closed == []

    asyncio.run(worker())

    assert closed == ["context"]
    assert app_context._context is None  # a later loop builds a fresh context
