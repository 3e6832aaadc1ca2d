"""Which run may work on a job: the claim, its renewal, and the fence every write of a run checks.

Storage Queues deliver at least once, so two deliveries of one job can run at the same time. Before it
calls anyone, a run takes an etag-guarded claim on the job document (its run id and an expiry) and keeps
it renewed while it works. A second delivery that finds a live claim calls nobody: the worker puts its
message back until the claim would lapse. Every later write of the run is applied only while the claim
is still its own (`owned_by`), so a run that was taken over, or whose job was canceled, stores nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import clock
from shared.app_context import AppContext
from shared.jobs.repository import JobUpdate, Mutation
from shared.models.common import utc_now
from shared.models.errors import ErrorCode
from shared.models.jobs import JobClaim, JobDocument, JobStatus
from shared.settings import Settings

logger = logging.getLogger(__name__)

# A message that arrives this little before its job's back-off ends is early, not a duplicate.
EARLY_ARRIVAL_TOLERANCE = timedelta(seconds=1)


class ClaimLost(Exception):
    """The job was taken over by another run, ended or removed: this run must store nothing more."""


@dataclass(frozen=True)
class Claimed:
    """This run now owns the job (its `attempts` already counts this run); `stored` is the claim's write
    (the job as stored and its etag), which the run's next write may start from."""

    job: JobDocument
    stored: JobUpdate | None = None


@dataclass(frozen=True)
class Deferred:
    """Not now: another run holds the job, or its back-off has not ended. Try again after the delay."""

    delay_seconds: int
    reason: str


@dataclass(frozen=True)
class Dropped:
    """Nothing to do: the job ended or does not exist."""

    reason: str


@dataclass(frozen=True)
class GiveUp:
    """The job must not be tried again: end it `failed` with this error."""

    job: JobDocument
    code: str
    message: str


ClaimOutcome = Claimed | Deferred | Dropped | GiveUp


def owned_by(run_id: str) -> Mutation:
    """A guard for a run's writes: True while the job is unfinished and claimed by `run_id`."""

    def owned(doc: JobDocument) -> bool:
        return not doc.status.is_terminal and doc.claim is not None and doc.claim.owner == run_id

    return owned


def claim_blocker(doc: JobDocument, settings: Settings, now: datetime) -> ClaimOutcome | None:
    """Why no run may claim the job now (None: it may). Decided from the document alone, so the same
    answer explains a claim that was not applied, and the sweeper asks the same question."""
    if doc.status.is_terminal:
        return Dropped(f"it is already {doc.status}")
    minutes = settings.job_deadline_minutes
    if doc.quota is not None:
        # Waiting for the model's quota has its own deadline (QUOTA_TIMEOUT) and does not eat this one.
        minutes += settings.quota_max_wait_minutes
    if doc.created_at + timedelta(minutes=minutes) < now:
        return GiveUp(
            doc, ErrorCode.TIMEOUT, f"The job did not finish within {minutes} minutes of its submission."
        )
    if doc.claim is not None and doc.claim.expires_at > now:
        return Deferred(_seconds_until(doc.claim.expires_at, now), f"run {doc.claim.owner} holds it")
    if doc.not_before is not None and doc.not_before - EARLY_ARRIVAL_TOLERANCE > now:
        return Deferred(_seconds_until(doc.not_before, now), "its back-off has not ended")
    if doc.attempts >= settings.provider_max_attempts:
        last = f" Last error: {doc.last_error.message}" if doc.last_error else ""
        return GiveUp(
            doc,
            ErrorCode.PROCESSING_FAILED,
            f"The job was interrupted after {doc.attempts} attempt(s) and is not tried again.{last}",
        )
    return None


async def claim_job(ctx: AppContext, tenant_id: str, job_id: str, run_id: str) -> ClaimOutcome:
    """Take the job for `run_id` if nobody holds it and it may start now; otherwise say why not."""
    settings = ctx.settings
    now = utc_now()

    def take(doc: JobDocument) -> bool:
        if claim_blocker(doc, settings, now) is not None:
            return False
        if doc.claim is not None:
            logger.warning(
                "Job %s: the claim of run %s lapsed; run %s takes over", doc.id, doc.claim.owner, run_id
            )
        doc.claim = JobClaim(owner=run_id, expires_at=now + timedelta(seconds=settings.job_claim_seconds))
        doc.status = JobStatus.RUNNING
        doc.attempts += 1
        doc.not_before = None
        doc.started_at = doc.started_at or now
        return True

    update = await ctx.jobs.update(tenant_id, job_id, take)
    if update.job is None:
        return Dropped("it does not exist")
    if update.applied:
        return Claimed(update.job, stored=update)
    outcome = claim_blocker(update.job, settings, now)
    assert outcome is not None, "a claim is refused only for a reason"
    return outcome


class ClaimKeeper:
    """Keeps a run's claim alive while it works (renewing it every third of its lifetime) and notices
    when it is lost. `check()` raises ClaimLost once a renewal found the job ended or owned by another run.
    `stored` is the run's last write of the job (the claim, then each renewal): the run's next write
    starts from it rather than reading the job again (JobRepository.update's `known`).
    """

    def __init__(
        self, ctx: AppContext, job: JobDocument, run_id: str, *, stored: JobUpdate | None = None
    ) -> None:
        self._ctx = ctx
        self._tenant_id = job.tenant_id
        self._job_id = job.id
        self.run_id = run_id
        self.stored = stored
        self._lifetime = timedelta(seconds=ctx.settings.job_claim_seconds)
        self._expires_at = job.claim.expires_at if job.claim else utc_now()
        self._lost = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ClaimKeeper:
        self._task = asyncio.create_task(self._keep_renewed(), name=f"claim:{self._job_id}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def owned(self) -> Mutation:
        return owned_by(self.run_id)

    def check(self) -> None:
        if self._lost:
            raise ClaimLost(f"job {self._job_id} is no longer claimed by run {self.run_id}")

    async def ensure_fresh(self) -> None:
        """Before a step that must not overlap another run (uploading): renew now if the claim could have
        lapsed unnoticed (this process stalled past a renewal), then check it."""
        if self._expires_at - utc_now() < self._lifetime / 2:
            await self.renew()
        self.check()

    async def renew(self) -> None:
        now = utc_now()
        expires_at = now + self._lifetime
        owned = self.owned

        def extend(doc: JobDocument) -> bool:
            if not owned(doc):
                return False
            assert doc.claim is not None
            doc.claim.expires_at = expires_at
            return True

        update = await self._ctx.jobs.update(self._tenant_id, self._job_id, extend, known=self.stored)
        if update.applied:
            self._expires_at = expires_at
            self.stored = update
        else:
            self._lost = True
            logger.info(
                "Job %s: run %s no longer holds its claim (ended, canceled or taken over); it stops",
                self._job_id,
                self.run_id,
            )

    async def _keep_renewed(self) -> None:
        interval = self._lifetime.total_seconds() / 3
        while not self._lost:
            await clock.sleep(interval)
            try:
                await self.renew()
            except Exception:
                # The next renewal (or the claim's lapse, then another run) deals with it.
                logger.warning("Job %s: renewing the claim failed", self._job_id, exc_info=True)


def unclaim(doc: JobDocument, *, not_before: datetime | None = None) -> None:
    """Hand a claimed job back to the queue: `queued`, unclaimed, no run starts it before `not_before`."""
    doc.status = JobStatus.QUEUED
    doc.claim = None
    doc.not_before = not_before


async def release_claim(ctx: AppContext, job: JobDocument, run_id: str) -> None:
    """Give the job up after this run failed unexpectedly, so the host's retry of the message can claim
    it at once instead of waiting for the claim to lapse. Best effort: if this fails too, it lapses."""
    owned = owned_by(run_id)

    def release(doc: JobDocument) -> bool:
        if not owned(doc):
            return False
        unclaim(doc)
        return True

    try:
        await ctx.jobs.update(job.tenant_id, job.id, release)
    except Exception:
        logger.warning(
            "Job %s: releasing the claim of run %s failed; it lapses", job.id, run_id, exc_info=True
        )


def redelivery_delay(seconds: int) -> int:
    """`seconds` plus a little jitter, so deferred duplicates do not all come back at the same instant."""
    return seconds + random.randint(1, 5)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))
