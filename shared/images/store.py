"""Generated images in Blob Storage, and the read-only URLs handed out for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.models.common import utc_now
from shared.models.jobs import BlobNaming
from shared.store_keys import plain_blob_name, plain_key

if TYPE_CHECKING:
    from azure.storage.blob import UserDelegationKey
    from azure.storage.blob.aio import BlobClient, BlobServiceClient


# Namespace of the `uuid` blob names: a UUIDv5 of `{jobId}-{n}` looks random to readers of the URL yet
# stays the same for a retried upload (which must overwrite, not add, a blob).
_BLOB_NAME_NAMESPACE = uuid.UUID("6f1c2a4e-5b0d-4c1e-9a7e-3d2b8f0c1a55")


def image_blob_name(
    tenant_id: str,
    created_at: datetime,
    job_id: str,
    index: int,
    extension: str,
    naming: BlobNaming = "indexed",
) -> str:
    """`images/{tenant}/{yyyy-mm-dd}/{jobId}-{n}.{ext}` (or `{uuid}.{ext}` with `naming="uuid"`, seed 003's
    layout): deterministic either way, so a retried upload overwrites."""
    if naming == "uuid":
        name = str(uuid.uuid5(_BLOB_NAME_NAMESPACE, f"{job_id}-{index}"))
        return f"images/{tenant_id}/{created_at:%Y-%m-%d}/{name}.{extension}"
    return f"images/{tenant_id}/{created_at:%Y-%m-%d}/{job_id}-{index}.{extension}"


def input_blob_name(tenant_id: str, created_at: datetime, job_id: str, name: str) -> str:
    """`inputs/{tenant}/{yyyy-mm-dd}/{jobId}/{name}`: a job's reference images and mask."""
    return f"inputs/{tenant_id}/{created_at:%Y-%m-%d}/{job_id}/{name}"


def normalize_etag(etag: str) -> str:
    """The SDK quotes eTags, Event Grid does not: compare them without quotes."""
    return etag.strip('"')


@dataclass(frozen=True)
class BlobContent:
    data: bytes
    content_type: str
    etag: str  # as the service quotes it, ready for an HTTP ETag header; compare with normalize_etag


class ImageStore:
    def __init__(
        self,
        service: BlobServiceClient,
        *,
        url_ttl: timedelta,
        public_container: str | None = None,
        public_base_url: str | None = None,
        container_public: bool = False,
    ) -> None:
        """`public_base_url` / `container_public` make plain URLs for `public_container` only (the images
        container); blobs of every other container (thumbnails, inputs) keep SAS URLs."""
        self._service = service
        self._url_ttl = url_ttl
        self._public_container = public_container
        self._public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._container_public = container_public
        self._delegation_key: UserDelegationKey | None = None
        self._delegation_key_expiry: datetime | None = None

    async def upload(
        self, container: str, blob_name: str, data: bytes, *, content_type: str, metadata: dict[str, str]
    ) -> None:
        from azure.storage.blob import ContentSettings

        blob = self._blob(container, blob_name)
        await blob.upload_blob(
            data,
            overwrite=True,
            content_settings=ContentSettings(content_type=content_type),
            metadata=metadata,
        )

    @property
    def account_url(self) -> str:
        """The blob endpoint of the service's own storage account (always on the fetch allowlist)."""
        return str(self._service.url)

    async def read(self, container: str, blob_name: str) -> BlobContent | None:
        """The blob's bytes, content type and eTag; None when it does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        blob = self._blob(container, blob_name)
        try:
            stream = await blob.download_blob()
            data = await stream.readall()
        except ResourceNotFoundError:
            return None
        properties = stream.properties
        return BlobContent(
            data=data,
            content_type=properties.content_settings.content_type or "application/octet-stream",
            etag=properties.etag,
        )

    async def download(self, container: str, blob_name: str) -> bytes | None:
        """A blob's bytes, or None when it does not exist."""
        content = await self.read(container, blob_name)
        return None if content is None else content.data

    async def etag(self, container: str, blob_name: str) -> str:
        properties = await self._blob(container, blob_name).get_blob_properties()
        return str(properties.etag)

    async def delete(self, container: str, blob_name: str) -> bool:
        """Remove the blob; False when it was already gone."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            await self._blob(container, blob_name).delete_blob()
        except ResourceNotFoundError:
            return False
        return True

    def is_public(self, container: str) -> bool:
        """Whether `read_url` hands out plain URLs (no expiry) for this container's blobs."""
        return container == self._public_container and bool(self._public_base_url or self._container_public)

    async def read_url(self, container: str, blob_name: str, *, ttl: timedelta | None = None) -> str:
        """A plain URL where images are public by setting (a CDN base, or a container with anonymous
        read); otherwise a read-only SAS URL valid for `ttl` (default IMAGE_URL_TTL_MINUTES): account-key
        signed where a key is configured, user-delegation signed (through the managed identity) otherwise."""
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        blob = self._blob(container, blob_name)
        public = container == self._public_container
        if public and self._public_base_url:
            return f"{self._public_base_url}/{blob_name}"
        if public and self._container_public:
            return str(blob.url)
        expiry = utc_now() + (ttl or self._url_ttl)
        credential = self._service.credential
        account_key = getattr(credential, "account_key", None)
        if account_key:
            token = generate_blob_sas(
                account_name=self._service.account_name or "",
                container_name=container,
                blob_name=blob_name,
                account_key=account_key,
                permission=BlobSasPermissions(read=True),
                expiry=expiry,
            )
        else:
            token = generate_blob_sas(
                account_name=self._service.account_name or "",
                container_name=container,
                blob_name=blob_name,
                user_delegation_key=await self._user_delegation_key(expiry),
                permission=BlobSasPermissions(read=True),
                expiry=expiry,
            )
        return f"{blob.url}?{token}"

    def _blob(self, container: str, blob_name: str) -> BlobClient:
        container = plain_key(container, "container name")
        return self._service.get_blob_client(container, plain_blob_name(blob_name))

    async def _user_delegation_key(self, needed_until: datetime) -> UserDelegationKey:
        # One key serves many URLs; fetch a new one only when the cached key would expire too soon.
        if (
            self._delegation_key is None
            or self._delegation_key_expiry is None
            or (self._delegation_key_expiry < needed_until)
        ):
            start = utc_now() - timedelta(minutes=5)
            expiry = needed_until + timedelta(hours=1)
            self._delegation_key = await self._service.get_user_delegation_key(start, expiry)
            self._delegation_key_expiry = expiry
        return self._delegation_key
