"""What a job costs, from CREDIT_COSTS."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.credits.ledger import job_cost
from shared.models.jobs import GenerationSpec
from shared.settings import Settings


def _spec(resolution: str = "standard", n: int = 1) -> GenerationSpec:
    return GenerationSpec(
        prompt="p", provider="gemini", model="m", aspect_ratio="1:1", resolution=resolution, n=n
    )


def test_the_default_costs_follow_seed_002() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x")

    assert [job_cost(settings, _spec(r)) for r in ("low", "standard", "high", "4k")] == [1, 1, 2, 4]
    assert job_cost(settings, _spec("4k", n=3)) == 12


def test_costs_come_from_the_flat_setting() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x", CREDIT_COSTS="standard=3, high=5")

    assert settings.credit_costs == {"standard": 3, "high": 5}
    assert job_cost(settings, _spec("high", n=2)) == 10
    assert job_cost(settings, _spec("low")) == 3  # an unpriced resolution costs what standard does


def test_a_cost_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValidationError, match="CREDIT_COSTS"):
        Settings(COSMOS_ENDPOINT="https://x", CREDIT_COSTS="standard=cheap")
