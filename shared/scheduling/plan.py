"""The scheduler's decisions, from a snapshot of a model's quota partition alone (no I/O, so they are
unit-tested directly): when a lane admits the next call, who may take a free slot now, a waiting job's
place in the line and its estimated start.

Fairness across tenants: while a model is saturated, its slots are shared equally among the tenants
with work waiting, not given first come, first served. The line is ordered by each job's turn: a
tenant's k-th waiting job (oldest first) has turn `k + the slots that tenant started in the current
window`; lower turns first, older jobs first within a turn. A tenant that just had many slots waits
until the others have had as many (or have nothing left waiting), so a single job submitted behind
another tenant's burst of 200 is next in line as soon as it arrives, not after the burst.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from shared.models.quotas import LaneEntry, QuotaLane, QuotaPace, QuotaWaiter
from shared.scheduling.limits import LaneShare, ModelLimits
from shared.scheduling.pace import MAX_FACTOR, blocked_until, current_factor

WINDOW_SECONDS = 60.0
# Added to every lane window: a call that starts a little late (SLOT_GRACE) or reaches the provider after
# a variable delay still has the full minute behind it as the provider counts it.
WINDOW_MARGIN = 2.0
# How far ahead a run may reserve a slot; it then waits in-process until the slot.
HORIZON = 4.0
# A run may start its call this much after its slot without reserving again.
SLOT_GRACE = 0.5
# A waiting job's message comes back this long before its estimated slot, so that it is there in time.
LEAD = 2.0
# ... and at least this often, to be placed again (its estimate moves as others come and go).
RECHECK_SECONDS = 60
# A waiter is "present" (its message visible now or about to be) within this of its due time.
PRESENT_TOLERANCE = 2.0
# A waiter this long overdue lost its run or message: it is left out until it comes back.
STALE_AFTER = 120.0
# Entries are kept on a lane as long as the longest window can need them.
ENTRY_LIFETIME = WINDOW_SECONDS * MAX_FACTOR + WINDOW_MARGIN


@dataclass(frozen=True)
class ModelQuota:
    """A declared quota (PROVIDER_QUOTAS) with its split into lanes: the scheduler's view of one model.
    `call_per_image`: the model draws one image per provider call (a job of n images makes n calls)."""

    scope: str  # `provider/model`, the partition key of its documents
    limits: ModelLimits
    shares: tuple[LaneShare, ...]
    call_per_image: bool = True

    @property
    def lanes(self) -> int:
        return len(self.shares)

    def calls(self, images: int) -> int:
        return images if self.call_per_image else 1

    @property
    def largest_job(self) -> int | None:
        """The most images one job may ask for and still fit a lane (None: no such bound)."""
        bounds = [share.images for share in self.shares if share.images is not None]
        if self.call_per_image:
            bounds += [share.requests for share in self.shares if share.requests is not None]
        return min(bounds) if bounds else None


@dataclass
class Snapshot:
    """A model's quota partition as read at `read_at`: lanes (with their etags), pace and waiters."""

    read_at: float
    lanes: dict[int, QuotaLane] = field(default_factory=dict)
    etags: dict[int, str] = field(default_factory=dict)
    pace: QuotaPace | None = None
    waiters: list[QuotaWaiter] = field(default_factory=list)
    # The stored line's places (job id -> position, expected start), worked out once per snapshot.
    places: dict[str, tuple[int, float]] | None = None


@dataclass(frozen=True)
class Reserve:
    """This job may take a slot now: try these (lane, start) in order."""

    choices: list[tuple[int, float]]


@dataclass(frozen=True)
class Wait:
    """This job waits: `position` jobs of the model start before it; its slot is expected at `start`."""

    position: int
    start: float


def window_seconds(pace: QuotaPace | None, now: float) -> float:
    return WINDOW_SECONDS * current_factor(pace, now) + WINDOW_MARGIN


def earliest_start(
    entries: list[LaneEntry], share: LaneShare, calls: int, images: int, start: float, window: float
) -> float | None:
    """The first moment from `start` at which the lane admits a job of `calls` calls and `images`
    images; None when the job is larger than the lane's share (it never fits).

    Every entry after `moment - window` is counted, reservations a little ahead included: any window of
    `window` seconds holding the new call holds no more than those."""
    if (share.images is not None and images > share.images) or (
        share.requests is not None and calls > share.requests
    ):
        return None
    ordered = sorted(entries, key=lambda entry: entry.at)
    moment = start
    if share.paced and ordered:
        # After the latest call on the lane, by that call's part of the window.
        latest = ordered[-1]
        parts = [latest.calls / share.requests if share.requests else 0.0]
        parts.append(latest.images / share.images if share.images else 0.0)
        moment = max(moment, latest.at + window * max(parts))
    oldest = 0  # the first entry that may still be inside the window ending at `moment`
    while True:
        while oldest < len(ordered) and ordered[oldest].at <= moment - window:
            oldest += 1
        inside = ordered[oldest:]
        calls_fit = share.requests is None or sum(entry.calls for entry in inside) + calls <= share.requests
        images_fit = share.images is None or sum(entry.images for entry in inside) + images <= share.images
        if calls_fit and images_fit:
            return moment
        # Wait until the oldest of them leaves the window (counted out by index, not by comparing
        # the sum back: floating point must not keep it inside).
        moment = max(moment, inside[0].at + window)
        oldest += 1


def lane_entries(snapshot: Snapshot, lane: int) -> list[LaneEntry]:
    doc = snapshot.lanes.get(lane)
    return list(doc.entries) if doc else []


def free_slots(snapshot: Snapshot, quota: ModelQuota, images: int, now: float) -> list[tuple[int, float]]:
    """Lanes that admit the call within HORIZON, earliest first (ties in random order, so that
    concurrent workers spread over lanes instead of racing for one)."""
    start = max(now, blocked_until(snapshot.pace))
    window = window_seconds(snapshot.pace, now)
    found: list[tuple[float, float, int]] = []
    for lane, share in enumerate(quota.shares):
        moment = earliest_start(
            lane_entries(snapshot, lane), share, quota.calls(images), images, start, window
        )
        if moment is not None and moment <= now + HORIZON:
            found.append((round(moment, 1), random.random(), lane))
    return [(lane, moment) for moment, _, lane in sorted(found)]


def served_recently(snapshot: Snapshot, now: float) -> Counter[str]:
    """Slots each tenant started (or reserved) on the model within the current window."""
    since = now - window_seconds(snapshot.pace, now)
    return Counter(
        entry.tenant for lane in snapshot.lanes.values() for entry in lane.entries if entry.at > since
    )


def fair_order(waiters: list[QuotaWaiter], served: Counter[str] | None = None) -> list[QuotaWaiter]:
    """The line: by turn (a tenant's k-th waiting job has turn k + its slots served in the window),
    older first within a turn."""
    turns: dict[str, int] = defaultdict(int, served or {})
    keyed: list[tuple[int, str, str, QuotaWaiter]] = []
    for waiter in sorted(waiters, key=lambda w: (w.created_at, w.job_id)):
        keyed.append((turns[waiter.tenant_id], waiter.created_at.isoformat(), waiter.job_id, waiter))
        turns[waiter.tenant_id] += 1
    return [item[3] for item in sorted(keyed, key=lambda item: item[:3])]


def is_present(waiter: QuotaWaiter, now: float) -> bool:
    return now - STALE_AFTER <= waiter.due_at <= now + PRESENT_TOLERANCE


def is_live(waiter: QuotaWaiter, now: float) -> bool:
    return waiter.due_at >= now - STALE_AFTER


def line(snapshot: Snapshot, me: QuotaWaiter, now: float) -> list[QuotaWaiter]:
    """The model's line in fair order, with `me` in its place (whether or not it is stored yet)."""
    others = [w for w in snapshot.waiters if w.job_id != me.job_id and is_live(w, now)]
    return fair_order([*others, me], served_recently(snapshot, now))


def decide(snapshot: Snapshot, quota: ModelQuota, me: QuotaWaiter, now: float) -> Reserve | Wait:
    """Reserve when fewer present waiters come before `me` than there are free slots; else wait.

    Only waiters whose messages are here now compete for a free slot: one due later was told to come
    back for a later slot, and a slot nobody present claims would be lost."""
    free = free_slots(snapshot, quota, me.images, now)
    present = [w for w in snapshot.waiters if w.job_id != me.job_id and is_present(w, now)]
    rank = fair_order([*present, me], served_recently(snapshot, now)).index(me)
    if rank < len(free):
        return Reserve(choices=free)
    ordered = line(snapshot, me, now)
    position = ordered.index(me)
    return Wait(position=position, start=estimated_starts(snapshot, quota, ordered[: position + 1], now)[-1])


def estimated_starts(
    snapshot: Snapshot, quota: ModelQuota, ordered: list[QuotaWaiter], now: float
) -> list[float]:
    """When each of `ordered` (in line order) should start, if each takes the earliest slot in turn at the
    current pace: every lane's next free moment in a heap, the next job on the earliest lane."""
    start = max(now, blocked_until(snapshot.pace))
    window = window_seconds(snapshot.pace, now)
    simulated = {lane: lane_entries(snapshot, lane) for lane in range(quota.lanes)}
    heap: list[tuple[float, int]] = []
    for lane, share in enumerate(quota.shares):
        moment = earliest_start(simulated[lane], share, 1, 1, start, window)
        if moment is not None:
            heap.append((moment, lane))
    heapq.heapify(heap)
    starts: list[float] = []
    for waiter in ordered:
        if not heap:
            starts.append(start + window)
            continue
        _, lane = heapq.heappop(heap)
        share = quota.shares[lane]
        moment = earliest_start(simulated[lane], share, waiter.calls, waiter.images, start, window)
        if moment is None:  # larger than a lane's share: submit refuses such jobs
            moment = start + window
        starts.append(moment)
        simulated[lane].append(
            LaneEntry(
                at=moment,
                images=waiter.images,
                calls=waiter.calls,
                job=waiter.job_id,
                tenant=waiter.tenant_id,
            )
        )
        following = earliest_start(simulated[lane], share, 1, 1, start, window)
        if following is not None:
            heapq.heappush(heap, (following, lane))
    return starts
