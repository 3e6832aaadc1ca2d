"""`GET /api/health`: the reachability of each dependency, and the settings that keep a provider from
serving."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.models.common import ApiModel


class DependencyHealth(ApiModel):
    status: Literal["up", "down"]
    latency_ms: int
    detail: str | None = None


class ConfigurationProblem(ApiModel):
    settings: list[str] = Field(description="The app settings to set or fix.")
    message: str


class HealthReport(ApiModel):
    status: Literal["ok", "degraded"] = Field(
        description="`ok` (HTTP 200): every dependency is up and every provider setting usable; "
        "`degraded` (HTTP 503): a dependency is down or `configuration` lists a problem."
    )
    dependencies: dict[str, DependencyHealth]
    configuration: list[ConfigurationProblem] = Field(default_factory=list)
