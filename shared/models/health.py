"""`GET /api/health`: the reachability of each dependency."""

from __future__ import annotations

from typing import Literal

from shared.models.common import ApiModel


class DependencyHealth(ApiModel):
    status: Literal["up", "down"]
    latency_ms: int
    detail: str | None = None


class HealthReport(ApiModel):
    status: Literal["ok", "degraded"]
    dependencies: dict[str, DependencyHealth]
