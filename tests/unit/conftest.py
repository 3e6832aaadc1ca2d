"""Unit-test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import azure.functions as func
import pytest

import function_app
from shared.clock import SystemClock, use_clock


@pytest.fixture(scope="session")
def app_functions() -> list[func.Function]:
    # The SDK's get_functions() records names to refuse duplicates, so a second call in one process fails.
    return function_app.app.get_functions()


@pytest.fixture(autouse=True)
def system_clock() -> Iterator[None]:
    """Whatever clock a test put in (fake_world's FakeClock), the next test starts on the system clock."""
    yield
    use_clock(SystemClock())
