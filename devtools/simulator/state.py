"""What the simulator remembers: recorded requests, queued faults, latency."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = {
    "http_429",  # 429 with Retry-After
    "http_400",  # the provider refuses the request as invalid
    "http_500",
    "http_503",
    "hang",  # never answers within the client's timeout
    "safety",  # a content-policy block in the provider's own shape
    "no_image",  # a well-formed answer with text but no image
    "malformed",  # a 200 whose body is not JSON
    "slow",  # answers after `delaySeconds`
    "prompt_blocked",  # Gemini: promptFeedback.blockReason (Azure: the content filter)
}


@dataclass
class Fault:
    kind: str
    remaining: int
    provider: str | None = None
    model: str | None = None
    retry_after: float | None = None
    delay_seconds: float = 0.0

    def applies_to(self, provider: str, model: str) -> bool:
        return self.remaining > 0 and self.provider in (None, provider) and self.model in (None, model)


@dataclass
class SimulatorState:
    latency_ms: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Requests-per-minute quota per provider and model (None: unlimited); calls beyond it get a 429.
    quota_per_minute: int | None = None
    _calls: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    # Besides queued faults: this fraction of calls gets a fault drawn from `random_fault_kinds` (soaks).
    random_fault_rate: float = 0.0
    random_fault_kinds: list[str] = field(default_factory=list)
    random_fault_delay_seconds: float = 2.0

    def record(self, entry: dict[str, Any]) -> None:
        entry["receivedAt"] = time.time()
        self.requests.append(entry)

    def quota_wait(self, provider: str, model: str) -> float | None:
        """Seconds until the quota admits another call, or None when this call is admitted (and counted)."""
        if self.quota_per_minute is None:
            return None
        now = time.monotonic()
        window = [t for t in self._calls.get((provider, model), []) if now - t < 60]
        self._calls[(provider, model)] = window
        if len(window) >= self.quota_per_minute:
            return 60 - (now - window[0])
        window.append(now)
        return None

    def take_fault(self, provider: str, model: str) -> Fault | None:
        for fault in self.faults:
            if fault.applies_to(provider, model):
                fault.remaining -= 1
                return fault
        if self.random_fault_kinds and random.random() < self.random_fault_rate:
            kind = random.choice(self.random_fault_kinds)
            return Fault(kind=kind, remaining=0, retry_after=1, delay_seconds=self.random_fault_delay_seconds)
        return None
