"""Image URLs: SAS by default, plain where the images are public by setting."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from azure.storage.blob.aio import BlobServiceClient

from shared.images.store import ImageStore
from shared.settings import _DEVELOPMENT_STORAGE

BLOB = "images/dev/2026-01-01/job-0.png"


def _url(container: str = "generated", **options: object) -> str:
    async def run() -> str:
        async with BlobServiceClient.from_connection_string(_DEVELOPMENT_STORAGE) as service:
            store = ImageStore(
                service,
                url_ttl=timedelta(minutes=5),
                public_container="generated",
                **options,  # type: ignore[arg-type]
            )
            return await store.read_url(container, BLOB)

    return asyncio.run(run())


def test_a_private_container_gets_read_only_sas_urls() -> None:
    url = _url()

    parts = urlsplit(url)
    assert parts.path == f"/devstoreaccount1/generated/{BLOB}"
    query = parse_qs(parts.query)
    assert query["sp"] == ["r"] and "sig" in query and "se" in query


def test_a_public_container_gets_plain_blob_urls() -> None:
    assert _url(container_public=True) == f"http://127.0.0.1:10000/devstoreaccount1/generated/{BLOB}"


def test_a_public_base_url_fronts_the_container() -> None:
    assert (
        _url(public_base_url="https://cdn.example.com/generated/")
        == f"https://cdn.example.com/generated/{BLOB}"
    )


def test_other_containers_keep_sas_urls_when_images_are_public() -> None:
    for options in ({"container_public": True}, {"public_base_url": "https://cdn.example.com/generated"}):
        parts = urlsplit(_url("thumbnails", **options))
        assert parts.path == f"/devstoreaccount1/thumbnails/{BLOB}"
        assert "sig" in parse_qs(parts.query)
