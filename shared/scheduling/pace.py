"""The shared slow-down of a model after the provider refused a call with 429.

Quotas change and other clients may share them, so the provider can still refuse although the lanes
kept to the declared quota. Each refusal (at most one every REFUSAL_DEBOUNCE seconds, so that the calls
already in flight do not compound it) doubles the model's pace factor, up to MAX_FACTOR: every lane's
window is stretched by it, i.e. the model is called at `1 / factor` of its declared rate. No call starts
before the provider's Retry-After. The factor recovers by itself, halving its excess every
RECOVERY_HALF_LIFE seconds, so the stored state needs no write to recover.
"""

from __future__ import annotations

from shared.models.quotas import QuotaPace

MAX_FACTOR = 8.0
REFUSAL_DEBOUNCE = 5.0
RECOVERY_HALF_LIFE = 120.0
# Without a Retry-After, calls wait this long after a refusal.
DEFAULT_REFUSAL_PAUSE = 5.0


def current_factor(pace: QuotaPace | None, now: float) -> float:
    if pace is None or pace.factor <= 1.0:
        return 1.0
    elapsed = max(0.0, now - pace.at)
    return 1.0 + (pace.factor - 1.0) * 0.5 ** (elapsed / RECOVERY_HALF_LIFE)


def blocked_until(pace: QuotaPace | None) -> float:
    return 0.0 if pace is None else pace.blocked_until


def after_refusal(pace: QuotaPace, now: float, retry_after: float | None) -> bool:
    """Apply a refusal to `pace` in place; False when it changes nothing (one just applied covers it)."""
    pause_until = now + (retry_after if retry_after and retry_after > 0 else DEFAULT_REFUSAL_PAUSE)
    changed = False
    if pause_until > pace.blocked_until:
        pace.blocked_until = pause_until
        changed = True
    if now - pace.at >= REFUSAL_DEBOUNCE:
        pace.factor = min(MAX_FACTOR, current_factor(pace, now) * 2.0)
        pace.at = now
        pace.refusals += 1
        changed = True
    return changed
