"""Queue triggers with the host's semantics.

- Messages are fetched in batches of `batchSize`; a new batch is fetched when the messages in flight drop
  to `newBatchThreshold`, so at most `batchSize + newBatchThreshold` run at once per function.
- An empty queue is polled with exponential back-off from 100 ms up to `maxPollingInterval`.
- A message is invisible while it runs; a failed invocation makes it visible again after
  `visibilityTimeout`; a message that failed `maxDequeueCount` times moves to `<queue>-poison`.
- Bodies are base64 unless `messageEncoding` is `none`; the function gets an
  `azure.functions.QueueMessage` with id, dequeue count, pop receipt and times.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueMessage as StorageQueueMessage
from azure.storage.queue.aio import QueueClient

from devtools.devhost.config import QueueOptions
from devtools.devhost.invoker import FunctionSpec, Invoker

logger = logging.getLogger("devhost")

MIN_POLLING_INTERVAL = 0.1
# How long a fetched message stays invisible while its invocation runs (the host's default lease).
INVOCATION_LEASE_SECONDS = 600


class QueueListener:
    def __init__(
        self,
        function: FunctionSpec,
        queue: QueueClient,
        poison_queue: QueueClient,
        options: QueueOptions,
        invoker: Invoker,
    ) -> None:
        self.function = function
        self._queue = queue
        self._poison = poison_queue
        self._options = options
        self._invoker = invoker
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.max_concurrency_seen = 0

    @property
    def queue_name(self) -> str:
        return self._queue.queue_name

    async def run(self) -> None:
        delay = MIN_POLLING_INTERVAL
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
                delay = MIN_POLLING_INTERVAL
                for message in messages:
                    task = asyncio.create_task(self._process(message))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                self.max_concurrency_seen = max(self.max_concurrency_seen, len(self._in_flight))
                continue
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, self._options.max_polling_interval)

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping.set()
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace)

    async def _fetch(self) -> list[StorageQueueMessage]:
        try:
            pages = self._queue.receive_messages(
                messages_per_page=min(32, self._options.batch_size),
                max_messages=self._options.batch_size,
                visibility_timeout=INVOCATION_LEASE_SECONDS,
            )
            return [message async for message in pages]
        except ResourceNotFoundError:
            return []

    async def _process(self, message: StorageQueueMessage) -> None:
        dequeue_count = message.dequeue_count or 1
        if dequeue_count > self._options.max_dequeue_count:
            # Fetched again after it already used up its attempts (e.g. the host stopped mid-way).
            await self._move_to_poison(message)
            return
        try:
            body = self._decode(message.content)
        except (binascii.Error, ValueError):
            logger.error(
                "Message %s on %s is not valid base64; moving it to the poison queue",
                message.id,
                self.queue_name,
            )
            await self._move_to_poison(message)
            return
        trigger_message = QueueMessage(
            id=message.id,
            body=body,
            dequeue_count=dequeue_count,
            expiration_time=message.expires_on,
            insertion_time=message.inserted_on,
            time_next_visible=message.next_visible_on,
            pop_receipt=message.pop_receipt,
        )
        argument = {str(self.function.trigger["name"]): trigger_message}
        try:
            await self._invoker.invoke(
                self.function, argument, reason=f"New queue message detected on '{self.queue_name}'."
            )
        except Exception:
            await self._after_failure(message, dequeue_count)
            return
        try:
            await self._queue.delete_message(message.id, message.pop_receipt)
        except ResourceNotFoundError:
            logger.warning("Message %s was already deleted", message.id)

    async def _after_failure(self, message: StorageQueueMessage, dequeue_count: int) -> None:
        if dequeue_count >= self._options.max_dequeue_count:
            logger.warning(
                "Message %s has reached MaxDequeueCount of %d; moving it to queue '%s'",
                message.id,
                self._options.max_dequeue_count,
                self._poison.queue_name,
            )
            await self._move_to_poison(message)
            return
        try:
            await self._queue.update_message(
                message.id, message.pop_receipt, visibility_timeout=int(self._options.visibility_timeout)
            )
        except ResourceNotFoundError:
            logger.warning("Message %s vanished before it could be released", message.id)

    async def _move_to_poison(self, message: StorageQueueMessage) -> None:
        try:
            await self._poison.create_queue()
        except ResourceExistsError:
            pass
        # The raw content moves unchanged, as the host does, so the poison trigger decodes it the same way.
        await self._poison.send_message(message.content)
        try:
            await self._queue.delete_message(message.id, message.pop_receipt)
        except ResourceNotFoundError:
            pass

    def _decode(self, content: str | bytes) -> bytes:
        raw = content.encode() if isinstance(content, str) else content
        if self._options.message_encoding == "none":
            return raw
        return base64.b64decode(raw, validate=True)
