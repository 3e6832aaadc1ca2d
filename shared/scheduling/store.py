"""The scheduler's state in Cosmos DB (container `quotas`, one partition per `provider/model`), shared by
every Function instance: lanes, the pace after refusals, the line of waiting jobs, concurrent-call leases.

Every write is to one small document, guarded by its etag where two workers could race (lanes, pace,
leases); a worker that loses a race on a lane tries another lane, so a burst of workers spreads over the
lanes instead of retrying on one counter. Reading a model's state is one single-partition query.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)

from shared import clock
from shared.models.jobs import JobDocument
from shared.models.quotas import (
    PACE_DOCUMENT_ID,
    LaneEntry,
    QuotaLane,
    QuotaLease,
    QuotaPace,
    QuotaWaiter,
    lane_id,
    lease_id,
    waiter_id,
)
from shared.providers.catalog import calls_per_job, family_of
from shared.scheduling.events import SLOT_GIVEN_BACK, quota_event
from shared.scheduling.limits import ModelLimits, lane_count, lane_shares
from shared.scheduling.pace import after_refusal, blocked_until
from shared.scheduling.plan import (
    ENTRY_LIFETIME,
    HORIZON,
    ModelQuota,
    Snapshot,
    earliest_start,
    free_slots,
    window_seconds,
)
from shared.settings import Settings

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

# Tries of one lane after losing a race on it, and of the pace document.
_RACE_RETRIES = 2


@dataclass(frozen=True)
class Slot:
    """A call start this run reserved on a lane: the run calls the provider at `at` (or gives it back)."""

    scope: str
    lane: int
    at: float
    job_id: str
    images: int


@dataclass(frozen=True)
class Lease:
    scope: str
    id: str
    etag: str


class QuotaStore:
    def __init__(self, container: ContainerProxy, settings: Settings) -> None:
        self._container = container
        self._quotas = {
            scope: _model_quota(settings, scope, limits) for scope, limits in settings.provider_quotas.items()
        }
        self._recent: dict[str, Snapshot] = {}

    @property
    def enabled(self) -> bool:
        return bool(self._quotas)

    @property
    def quotas(self) -> dict[str, ModelQuota]:
        return dict(self._quotas)

    def quota_for(self, provider: str, model: str) -> ModelQuota | None:
        return self._quotas.get(f"{provider}/{model}")

    async def recent_snapshot(self, quota: ModelQuota, max_age: float, read_after: float) -> Snapshot:
        """A snapshot at most `max_age` seconds old and read after `read_after` (the reader's own job last
        changed then: an older snapshot misses the slots its run saw taken), shared by this process's
        readers (status polls)."""
        cached = self._recent.get(quota.scope)
        if (
            cached is not None
            and clock.time() - cached.read_at <= max_age
            # Stored times have millisecond precision.
            and cached.read_at > read_after + 0.001
        ):
            return cached
        fresh = await self.snapshot(quota)
        self._recent[quota.scope] = fresh
        return fresh

    async def snapshot(self, quota: ModelQuota) -> Snapshot:
        snapshot = Snapshot(read_at=clock.time())
        async for item in self._container.query_items(
            "SELECT * FROM c WHERE c.scope = @scope",
            parameters=[{"name": "@scope", "value": quota.scope}],
            partition_key=quota.scope,
        ):
            kind = item.get("docType")
            if kind == "quotaLane":
                lane = QuotaLane.model_validate(item)
                index = _lane_index(lane.id)
                if index is not None and index < quota.lanes:
                    snapshot.lanes[index] = lane
                    snapshot.etags[index] = item["_etag"]
            elif kind == "quotaPace":
                snapshot.pace = QuotaPace.model_validate(item)
            elif kind == "quotaWaiter":
                snapshot.waiters.append(QuotaWaiter.model_validate(item))
        return snapshot

    async def reserve(
        self,
        quota: ModelQuota,
        snapshot: Snapshot,
        lanes: list[int],
        job: JobDocument,
        replacing: Slot | None = None,
    ) -> Slot | None:
        """A slot for `job` within HORIZON on the first of `lanes` that still has one; None when every
        one was taken meanwhile. On the lane of `replacing`, the new entry takes its place in the same
        write."""
        images = job.spec.n
        calls = quota.calls(images)
        for lane in lanes:
            doc, etag = snapshot.lanes.get(lane), snapshot.etags.get(lane)
            for _ in range(_RACE_RETRIES):
                now = clock.time()
                start = max(now, blocked_until(snapshot.pace))
                entries = list(doc.entries) if doc else []
                if replacing is not None and replacing.lane == lane:
                    entries = _without(entries, replacing)
                window = window_seconds(snapshot.pace, now)
                moment = earliest_start(entries, quota.shares[lane], calls, images, start, window)
                if moment is None or moment > now + HORIZON:
                    break
                kept = [e for e in entries if e.at > now - ENTRY_LIFETIME]
                entry = LaneEntry(at=moment, images=images, calls=calls, job=job.id, tenant=job.tenant_id)
                written, doc, etag = await self._write_lane(quota.scope, lane, [*kept, entry], etag)
                if written:
                    return Slot(scope=quota.scope, lane=lane, at=moment, job_id=job.id, images=images)
        return None

    async def fresh_slot(self, quota: ModelQuota, job: JobDocument, stale: Slot | None = None) -> Slot | None:
        """A slot within HORIZON for a run about to call, None when no lane has one. `stale`: the run's
        reserved slot that passed before its call, exchanged for the fresh one (or given back when there
        is none). On the stale slot's lane the fresh entry replaces it in one write: giving it back first
        would show that lane a free slot in between, to other workers and to the estimates of every
        waiting job."""
        snapshot = await self.snapshot(quota)
        seen = snapshot
        lane_doc = snapshot.lanes.get(stale.lane) if stale is not None else None
        if stale is not None and lane_doc is not None:
            seen = dataclasses.replace(snapshot, lanes=dict(snapshot.lanes))
            kept = _without(lane_doc.entries, stale)
            seen.lanes[stale.lane] = lane_doc.model_copy(update={"entries": kept})
        free = free_slots(seen, quota, job.spec.n, clock.time())
        fresh = await self.reserve(quota, snapshot, [lane for lane, _ in free], job, replacing=stale)
        if stale is not None and (fresh is None or fresh.lane != stale.lane):
            await self.give_back(stale)
        return fresh

    async def give_back(self, slot: Slot) -> None:
        """Remove an unused reservation, so that the lane admits another call in its place. Best effort:
        an entry left behind only keeps its lane idle for one window."""
        doc, etag = await self._read_lane(slot.scope, slot.lane)
        for _ in range(_RACE_RETRIES + 1):
            if doc is None or etag is None:
                return
            kept = _without(doc.entries, slot)
            if len(kept) == len(doc.entries):
                return
            written, doc, etag = await self._write_lane(slot.scope, slot.lane, kept, etag)
            if written:
                quota_event(
                    SLOT_GIVEN_BACK, slot.scope, slot.job_id, "Quota %s: slot of job %s given back",
                    slot.scope, slot.job_id,
                )  # fmt: skip
                return

    async def save_waiter(self, waiter: QuotaWaiter) -> None:
        await self._container.upsert_item(waiter.model_dump(mode="json"))

    async def remove_waiter(self, scope: str, job_id: str) -> None:
        try:
            await self._container.delete_item(waiter_id(job_id), partition_key=scope)
        except CosmosResourceNotFoundError:
            pass

    async def slow_down(self, quota: ModelQuota, retry_after: float | None) -> QuotaPace:
        """Record a provider refusal: pause the model for Retry-After and stretch its pace (pace.py)."""
        for _ in range(_RACE_RETRIES + 1):
            now = clock.time()
            try:
                item = await self._container.read_item(PACE_DOCUMENT_ID, partition_key=quota.scope)
            except CosmosResourceNotFoundError:
                pace = QuotaPace(scope=quota.scope)
                after_refusal(pace, now, retry_after)
                try:
                    await self._container.create_item(pace.model_dump(mode="json"))
                    return pace
                except CosmosResourceExistsError:
                    continue
            pace = QuotaPace.model_validate(item)
            if not after_refusal(pace, now, retry_after):
                return pace
            try:
                await self._container.replace_item(
                    PACE_DOCUMENT_ID,
                    pace.model_dump(mode="json"),
                    etag=item["_etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                return pace
            except CosmosAccessConditionFailedError:
                continue  # another worker recorded a refusal meanwhile: apply this one to theirs
        return pace

    async def acquire_lease(self, quota: ModelQuota, owner: str, seconds: float) -> Lease | None:
        """One of the model's `concurrent` call slots for `seconds`, or None when all are held."""
        count = quota.limits.concurrent or 0
        now = clock.time()
        lease = QuotaLease(
            id="", scope=quota.scope, owner=owner, expires_at=now + seconds, ttl=int(seconds) + 60
        )
        for index in random.sample(range(count), count):
            body = lease.model_copy(update={"id": lease_id(index)}).model_dump(mode="json")
            try:
                item = await self._container.read_item(lease_id(index), partition_key=quota.scope)
            except CosmosResourceNotFoundError:
                try:
                    created = await self._container.create_item(body)
                except CosmosResourceExistsError:
                    continue
                return Lease(scope=quota.scope, id=body["id"], etag=created["_etag"])
            if float(item.get("expiresAt", 0)) > now:
                continue
            try:
                replaced = await self._container.replace_item(
                    body["id"], body, etag=item["_etag"], match_condition=MatchConditions.IfNotModified
                )
            except CosmosAccessConditionFailedError:
                continue
            return Lease(scope=quota.scope, id=body["id"], etag=replaced["_etag"])
        return None

    async def release_lease(self, lease: Lease) -> None:
        try:
            await self._container.delete_item(
                lease.id,
                partition_key=lease.scope,
                etag=lease.etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except (CosmosResourceNotFoundError, CosmosAccessConditionFailedError):
            pass  # lapsed and taken by another run meanwhile: theirs now

    async def _read_lane(self, scope: str, lane: int) -> tuple[QuotaLane | None, str | None]:
        try:
            item = await self._container.read_item(lane_id(lane), partition_key=scope)
        except CosmosResourceNotFoundError:
            return None, None
        return QuotaLane.model_validate(item), item["_etag"]

    async def _write_lane(
        self, scope: str, lane: int, entries: list[LaneEntry], etag: str | None
    ) -> tuple[bool, QuotaLane | None, str | None]:
        """Write the lane's entries if it is unchanged since `etag` (absent when None). Returns whether
        it was written and the lane as it now is."""
        body: dict[str, Any] = QuotaLane(id=lane_id(lane), scope=scope, entries=entries).model_dump(
            mode="json"
        )
        try:
            if etag is None:
                written = await self._container.create_item(body)
            else:
                written = await self._container.replace_item(
                    body["id"], body, etag=etag, match_condition=MatchConditions.IfNotModified
                )
        except (CosmosAccessConditionFailedError, CosmosResourceExistsError, CosmosResourceNotFoundError):
            doc, fresh = await self._read_lane(scope, lane)
            return False, doc, fresh
        return True, QuotaLane.model_validate(written), written["_etag"]


def _model_quota(settings: Settings, scope: str, limits: ModelLimits) -> ModelQuota:
    provider, _, model = scope.partition("/")
    family = family_of(settings, provider, model)
    # A model whose family is unknown is counted as Gemini's are: one call per image (never too few).
    call_per_image = family is None or calls_per_job(family, 2) == 2
    largest = settings.max_images_per_job
    lanes = lane_count(limits, largest, largest if call_per_image else 1)
    return ModelQuota(
        scope=scope, limits=limits, shares=tuple(lane_shares(limits, lanes)), call_per_image=call_per_image
    )


def _lane_index(document_id: str) -> int | None:
    prefix, _, number = document_id.partition("-")
    return int(number) if prefix == "lane" and number.isdigit() else None


def _without(entries: list[LaneEntry], slot: Slot) -> list[LaneEntry]:
    """The lane's entries but `slot`'s. One entry only: two deliveries of a job may have reserved the very
    same moment (both from the end of a pause), and the other one's entry is the slot its run uses."""
    kept = list(entries)
    mine = next((e for e in kept if e.job == slot.job_id and e.at == slot.at), None)
    if mine is not None:
        kept.remove(mine)
    return kept
