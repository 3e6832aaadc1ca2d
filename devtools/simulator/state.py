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


@dataclass(frozen=True)
class ModelQuota:
    """A model's quota over any 60-second window, as a provider counts it (None: no such limit)."""

    requests_per_minute: int | None = None
    images_per_minute: int | None = None


@dataclass
class SimulatorState:
    # Every call waits `latency_ms`, or, with a spread, a latency drawn uniformly from
    # [latency_ms - spread, latency_ms + spread] (never below 0) with `latency_rng`: seeded, runs repeat.
    latency_ms: int = 0
    latency_spread_ms: int = 0
    latency_seed: int | None = None
    latency_rng: random.Random = field(default_factory=random.Random)
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Requests-per-minute quota of every provider and model (None: unlimited); calls beyond it get a 429.
    quota_per_minute: int | None = None
    # Quotas of single models (keyed `model` or `provider/model`), instead of `quota_per_minute`.
    model_quotas: dict[str, ModelQuota] = field(default_factory=dict)
    _calls: dict[tuple[str, str], list[tuple[float, int]]] = field(default_factory=dict)
    # Besides queued faults: this fraction of calls gets a fault drawn from `random_fault_kinds` (soaks).
    random_fault_rate: float = 0.0
    random_fault_kinds: list[str] = field(default_factory=list)
    random_fault_delay_seconds: float = 2.0
    # Provider calls being answered now; since the records were last cleared: the most at once, how many
    # were answered and their summed duration (over a run's wall time: the mean number in flight).
    calls_in_flight: int = 0
    max_calls_in_flight: int = 0
    calls_answered: int = 0
    call_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.latency_seed is not None:
            self.seed_latencies(self.latency_seed)

    def seed_latencies(self, seed: int | None) -> None:
        """Draw the latencies from here on from `seed` (None: from fresh entropy)."""
        self.latency_seed = seed
        self.latency_rng = random.Random(seed)

    def call_latency_ms(self) -> float:
        """The latency of the call now arriving."""
        if not self.latency_spread_ms:
            return float(self.latency_ms)
        spread = self.latency_spread_ms
        return max(0.0, self.latency_rng.uniform(self.latency_ms - spread, self.latency_ms + spread))

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry["receivedAt"] = time.time()
        self.requests.append(entry)
        return entry

    def clear_records(self) -> None:
        self.requests.clear()
        self.max_calls_in_flight = self.calls_in_flight
        self.calls_answered, self.call_seconds = 0, 0.0

    def call_started(self) -> float:
        self.calls_in_flight += 1
        self.max_calls_in_flight = max(self.max_calls_in_flight, self.calls_in_flight)
        return time.monotonic()

    def call_answered(self, started: float) -> None:
        self.calls_in_flight -= 1
        self.calls_answered += 1
        self.call_seconds += time.monotonic() - started

    def quota_for(self, provider: str, model: str) -> ModelQuota | None:
        quota = self.model_quotas.get(f"{provider}/{model}") or self.model_quotas.get(model)
        if quota is None and self.quota_per_minute is not None:
            quota = ModelQuota(requests_per_minute=self.quota_per_minute)
        return quota

    def quota_wait(self, provider: str, model: str, images: int = 1) -> float | None:
        """Seconds until the quota admits this call (of `images` images), or None when it is admitted
        (and counted): at most the quota's requests and images in any 60 seconds."""
        quota = self.quota_for(provider, model)
        if quota is None:
            return None
        now = time.monotonic()
        window = [(t, n) for t, n in self._calls.get((provider, model), []) if now - t < 60]
        self._calls[(provider, model)] = window
        waits = []
        if quota.requests_per_minute is not None and len(window) >= quota.requests_per_minute:
            waits.append(60 - (now - window[len(window) - quota.requests_per_minute][0]))
        if quota.images_per_minute is not None:
            excess = sum(n for _, n in window) + images - quota.images_per_minute
            for t, n in window:  # the oldest calls must leave the window until the images fit
                if excess <= 0:
                    break
                excess -= n
                waits.append(60 - (now - t))
            if excess > 0:
                waits.append(60.0)  # more images than the whole quota: never within a minute
        if waits:
            return max(waits)
        window.append((now, images))
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
