"""In-memory stand-ins for the Storage Queue client and the image store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared import clock
from shared.images.store import BlobContent


@dataclass
class SentMessage:
    content: str
    visibility_timeout: int | None
    visible_at: float = 0.0  # on the application's clock: when a receiver would first get it


@dataclass
class FakeQueueClient:
    """Records what was sent; `fail_with` makes the next send raise (a queue outage, or a crash when it is
    a BaseException such as asyncio.CancelledError)."""

    queue_name: str = "generation-jobs"
    sent: list[SentMessage] = field(default_factory=list)
    fail_with: BaseException | None = None

    async def send_message(self, content: str, *, visibility_timeout: int | None = None, **_: Any) -> None:
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        self.sent.append(SentMessage(content, visibility_timeout, clock.time() + (visibility_timeout or 0)))

    def take(self) -> list[SentMessage]:
        """The messages sent since the last take (as a worker would receive them)."""
        taken, self.sent = self.sent, []
        return taken


class FakeImageStore:
    """Blobs in a dict, keyed by (container, name); URLs are fake but stable."""

    account_url = "https://fake.blob.core.windows.net/"

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], BlobContent] = {}
        self.deleted: list[tuple[str, str]] = []

    async def upload(
        self, container: str, blob_name: str, data: bytes, *, content_type: str, metadata: dict[str, str]
    ) -> None:
        self.blobs[(container, blob_name)] = BlobContent(data=data, content_type=content_type, etag='"1"')

    async def read(self, container: str, blob_name: str) -> BlobContent | None:
        return self.blobs.get((container, blob_name))

    async def download(self, container: str, blob_name: str) -> bytes | None:
        content = self.blobs.get((container, blob_name))
        return None if content is None else content.data

    async def delete(self, container: str, blob_name: str) -> bool:
        self.deleted.append((container, blob_name))
        return self.blobs.pop((container, blob_name), None) is not None

    async def read_url(self, container: str, blob_name: str) -> str:
        return f"{self.account_url}{container}/{blob_name}?sig=fake"

    def names(self, container: str) -> set[str]:
        return {name for (c, name) in self.blobs if c == container}
