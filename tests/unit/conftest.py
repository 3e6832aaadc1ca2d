"""Unit-test fixtures."""

from __future__ import annotations

import azure.functions as func
import pytest

import function_app


@pytest.fixture(scope="session")
def app_functions() -> list[func.Function]:
    # The SDK's get_functions() records names to refuse duplicates, so a second call in one process fails.
    return function_app.app.get_functions()
