"""Queue triggers with the host's semantics.

- Messages are fetched in batches of `batchSize`; a new batch is fetched when the messages in flight drop
  to `newBatchThreshold`, so at most `batchSize + newBatchThreshold` run at once per function.
- An empty queue is polled with the host's randomized exponential back-off, from 100 ms up to
  `maxPollingInterval`.
- A fetched message is leased (invisible) for 10 minutes and the lease is renewed every 5 while its
  invocation runs, as the host renews it, so a long invocation never lets the message reappear; a failed
  invocation makes it visible again after `visibilityTimeout`; a message that failed `maxDequeueCount`
  times moves to `<queue>-poison`.
- Bodies are base64 unless `messageEncoding` is `none`; the function gets the message as a string with
  the host's trigger metadata (devtools.devhost.trigger_data).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import random
from dataclasses import dataclass

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import QueueMessage as StorageQueueMessage
from azure.storage.queue.aio import QueueClient

from devtools.devhost.config import QueueOptions
from devtools.devhost.trigger_data import queue_trigger
from devtools.devhost.worker import FunctionSpec, InvocationFailed, Worker

logger = logging.getLogger("devhost")

MIN_POLLING_INTERVAL = 0.1
# The host leases a message for 10 minutes and renews the lease halfway through.
LEASE_SECONDS = 600.0


class RandomizedBackoff:
    """The host's polling delay: the minimum after a poll that found messages; after each empty poll
    `minimum + r * 2**(n-1) * minimum` (r uniform in [0.8, 1.2]), up to `maximum`."""

    RANDOMIZATION = 0.2

    def __init__(self, minimum: float, maximum: float, rng: random.Random | None = None) -> None:
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self._rng = rng or random.Random()
        self._current = 0.0
        self._exponent = 0

    def next_delay(self, found_messages: bool) -> float:
        if found_messages:
            self._current, self._exponent = self.minimum, 1
        elif self._current != self.maximum:
            interval = self.minimum
            if self._exponent > 0:
                factor = self._rng.uniform(1 - self.RANDOMIZATION, 1 + self.RANDOMIZATION)
                interval += factor * 2 ** (self._exponent - 1) * self.minimum
            if interval < self.maximum:
                self._current = interval
                self._exponent += 1
            else:
                self._current = self.maximum
        return self._current


@dataclass
class _Lease:
    """A fetched message's id and current pop receipt (each renewal hands out a new one)."""

    message_id: str
    pop_receipt: str
    lost: bool = False


class QueueListener:
    def __init__(
        self,
        function: FunctionSpec,
        queue: QueueClient,
        poison_queue: QueueClient,
        options: QueueOptions,
        worker: Worker,
        *,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.function = function
        self._queue = queue
        self._poison = poison_queue
        self._options = options
        self._worker = worker
        self._lease_seconds = lease_seconds
        self._backoff = RandomizedBackoff(MIN_POLLING_INTERVAL, options.max_polling_interval)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.max_concurrency_seen = 0
        self.lease_renewals = 0

    @property
    def queue_name(self) -> str:
        return self._queue.queue_name

    async def run(self) -> None:
        found = False
        while not self._stopping.is_set():
            if len(self._in_flight) > self._options.threshold:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                messages = await self._fetch()
            except Exception:
                logger.warning("Polling %s failed; backing off", self.queue_name, exc_info=True)
                messages = []
            if messages:
                found = True
                for message in messages:
                    task = asyncio.create_task(self._process(message))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                self.max_concurrency_seen = max(self.max_concurrency_seen, len(self._in_flight))
                continue
            delay = self._backoff.next_delay(found)
            found = False
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                pass

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping.set()
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace)

    async def close(self) -> None:
        await self._queue.close()
        await self._poison.close()

    async def _fetch(self) -> list[StorageQueueMessage]:
        try:
            pages = self._queue.receive_messages(
                messages_per_page=min(32, self._options.batch_size),
                max_messages=self._options.batch_size,
                visibility_timeout=int(self._lease_seconds),
            )
            return [message async for message in pages]
        except ResourceNotFoundError:
            return []

    async def _process(self, message: StorageQueueMessage) -> None:
        lease = _Lease(message.id, message.pop_receipt or "")
        dequeue_count = message.dequeue_count or 1
        if dequeue_count > self._options.max_dequeue_count:
            # Fetched again after it already used up its attempts (e.g. the host stopped mid-way).
            await self._move_to_poison(message, lease)
            return
        try:
            body = self._decode(message.content)
        except (binascii.Error, ValueError):
            logger.error(
                "Message %s on %s is not valid base64; moving it to the poison queue",
                message.id,
                self.queue_name,
            )
            await self._move_to_poison(message, lease)
            return
        trigger, metadata = queue_trigger(
            body=body,
            message_id=message.id,
            dequeue_count=dequeue_count,
            inserted_on=message.inserted_on,
            expires_on=message.expires_on,
            next_visible_on=message.next_visible_on,
            pop_receipt=lease.pop_receipt,
        )
        renewal = asyncio.create_task(self._renew(lease), name=f"lease:{message.id}")
        try:
            await self._worker.invoke(
                self.function,
                trigger,
                trigger_metadata=metadata,
                reason=f"New queue message detected on '{self.queue_name}'.",
            )
            failed = False
        except InvocationFailed:
            failed = True
        finally:
            renewal.cancel()
            await asyncio.gather(renewal, return_exceptions=True)
        if lease.lost:
            logger.warning("Message %s: lease lost while it ran; it will be delivered again", message.id)
            return
        if failed:
            await self._after_failure(message, lease, dequeue_count)
            return
        try:
            await self._queue.delete_message(lease.message_id, lease.pop_receipt)
        except ResourceNotFoundError:
            logger.warning("Message %s was already deleted", message.id)

    async def _renew(self, lease: _Lease) -> None:
        """Keep the message invisible while its invocation runs: renew halfway through each lease,
        sooner after a failed renewal; stop once the message or its pop receipt is gone."""
        normal = self._lease_seconds / 2
        delay = normal
        while True:
            await asyncio.sleep(delay)
            try:
                receipt = await self._queue.update_message(
                    lease.message_id, lease.pop_receipt, visibility_timeout=int(self._lease_seconds)
                )
            except ResourceNotFoundError:
                lease.lost = True
                return
            except HttpResponseError as error:
                if error.status_code == 400 or error.status_code == 404:
                    lease.lost = True
                    return
                delay = max(self._lease_seconds / 10, delay / 2)
                logger.warning("Renewing the lease of %s failed (%s); retrying", lease.message_id, error)
                continue
            # The service answers every update with the message's new pop receipt.
            assert receipt.pop_receipt is not None
            lease.pop_receipt = receipt.pop_receipt
            self.lease_renewals += 1
            delay = normal

    async def _after_failure(self, message: StorageQueueMessage, lease: _Lease, dequeue_count: int) -> None:
        if dequeue_count >= self._options.max_dequeue_count:
            logger.warning(
                "Message %s has reached MaxDequeueCount of %d; moving it to queue '%s'",
                message.id,
                self._options.max_dequeue_count,
                self._poison.queue_name,
            )
            await self._move_to_poison(message, lease)
            return
        try:
            await self._queue.update_message(
                lease.message_id, lease.pop_receipt, visibility_timeout=int(self._options.visibility_timeout)
            )
        except ResourceNotFoundError:
            logger.warning("Message %s vanished before it could be released", message.id)

    async def _move_to_poison(self, message: StorageQueueMessage, lease: _Lease) -> None:
        try:
            await self._poison.create_queue()
        except ResourceExistsError:
            pass
        # The raw content moves unchanged, as the host does, so the poison trigger decodes it the same way.
        await self._poison.send_message(message.content)
        try:
            await self._queue.delete_message(lease.message_id, lease.pop_receipt)
        except ResourceNotFoundError:
            pass

    def _decode(self, content: str | bytes) -> bytes:
        raw = content.encode() if isinstance(content, str) else content
        if self._options.message_encoding == "none":
            return raw
        return base64.b64decode(raw, validate=True)
