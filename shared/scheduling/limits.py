"""What an operator declares about a model's provider quota (PROVIDER_QUOTAS), and how the scheduler
divides it into lanes.

One entry per `provider/model`, entries separated by commas, limits by semicolons:

    gemini/gemini-2.5-flash-image=rpm:30;ipm:60, azure-openai/gpt-image-1=rpm:6;burst:1;concurrent:2

- `rpm`: requests (provider calls) per minute; `ipm`: images per minute (a call may return several);
- `concurrent`: jobs of the model calling the provider at once;
- `burst`: how many calls may start together; the rest of the minute's quota is then evenly paced.
  Without it, the whole per-minute quota may start at once, as a provider that counts over a sliding
  minute (Gemini) allows; Azure OpenAI evaluates its per-minute quota over 1 to 10 s, so give it
  `burst:1` (evenly paced) up to `rpm / 6`.

The quota is split into `lanes` (`burst` of them, when given): each lane admits its share of the calls
and images in any window of one minute (stretched while the provider is refusing, see
shared/scheduling/pace.py), so all lanes together never admit more than the declared quota in any
minute, and concurrent workers reserve on different lanes instead of all racing for one counter. With
`burst`, each lane also spaces its calls evenly over the window.
"""

from __future__ import annotations

from dataclasses import dataclass

# More lanes buy a larger burst, at the price of reading more documents for each reservation.
MAX_LANES = 64


class QuotaSettingError(ValueError):
    """A PROVIDER_QUOTAS entry that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class ModelLimits:
    requests_per_minute: int | None = None
    images_per_minute: int | None = None
    concurrent: int | None = None
    burst: int | None = None

    def describe(self) -> str:
        parts = [
            f"{value} {name}"
            for name, value in (
                ("requests/min", self.requests_per_minute),
                ("images/min", self.images_per_minute),
                ("concurrent", self.concurrent),
                ("burst", self.burst),
            )
            if value is not None
        ]
        return ", ".join(parts)


@dataclass(frozen=True)
class LaneShare:
    """What one lane admits within a window: calls and images (None: no such limit); `paced`: spread
    evenly over the window rather than all at once."""

    requests: int | None
    images: int | None
    paced: bool = False


_NAMES = {
    "rpm": "requests_per_minute",
    "ipm": "images_per_minute",
    "concurrent": "concurrent",
    "burst": "burst",
}


def parse_quotas(value: object) -> object:
    """`provider/model=name:value;...` entries, comma-separated, as {`provider/model`: ModelLimits}."""
    if not isinstance(value, str):
        return value
    quotas: dict[str, ModelLimits] = {}
    for entry in (item.strip() for item in value.split(",")):
        if not entry:
            continue
        scope, sep, spec = entry.partition("=")
        scope = scope.strip()
        provider, slash, model = scope.partition("/")
        if not sep or not slash or not provider.strip() or not model.strip():
            raise QuotaSettingError(
                f"PROVIDER_QUOTAS entry {entry!r}: expected provider/model=rpm:N;ipm:N;concurrent:N;burst:N"
            )
        limits: dict[str, int] = {}
        for part in (p.strip() for p in spec.split(";")):
            if not part:
                continue
            name, colon, number = part.partition(":")
            field = _NAMES.get(name.strip().lower())
            if not colon or field is None:
                raise QuotaSettingError(
                    f"PROVIDER_QUOTAS entry {scope!r}: unknown limit {part!r} "
                    "(use rpm, ipm, concurrent, burst)"
                )
            try:
                amount = int(number.strip())
            except ValueError:
                amount = 0
            if amount < 1:
                raise QuotaSettingError(
                    f"PROVIDER_QUOTAS entry {scope!r}: {name.strip()} must be a whole number >= 1"
                )
            limits[field] = amount
        parsed = ModelLimits(**limits)
        if parsed.requests_per_minute is None and parsed.images_per_minute is None:
            raise QuotaSettingError(f"PROVIDER_QUOTAS entry {scope!r}: give rpm or ipm (or both)")
        quotas[f"{provider.strip()}/{model.strip()}"] = parsed
    return quotas


def lane_count(limits: ModelLimits, max_images_per_job: int, max_calls_per_job: int = 1) -> int:
    """How many lanes the quota is split into: the burst, but never so many that one lane's share of the
    calls or images is smaller than the largest job's."""
    candidates = [MAX_LANES]
    if limits.burst is not None:
        candidates.append(limits.burst)
    if limits.requests_per_minute is not None:
        candidates.append(limits.requests_per_minute // max(1, max_calls_per_job))
    if limits.images_per_minute is not None:
        candidates.append(limits.images_per_minute // max(1, max_images_per_job))
    return max(1, min(candidates))


def lane_shares(limits: ModelLimits, lanes: int) -> list[LaneShare]:
    """Each lane's share, so that the shares add up to exactly the declared quota."""
    return [
        LaneShare(
            requests=_share(limits.requests_per_minute, lanes, index),
            images=_share(limits.images_per_minute, lanes, index),
            paced=limits.burst is not None,
        )
        for index in range(lanes)
    ]


def _share(total: int | None, lanes: int, index: int) -> int | None:
    if total is None:
        return None
    return total // lanes + (1 if index < total % lanes else 0)
