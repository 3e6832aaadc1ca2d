"""Generated images in Blob Storage, and the read-only URLs handed out for them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.models.common import utc_now

if TYPE_CHECKING:
    from azure.storage.blob import UserDelegationKey
    from azure.storage.blob.aio import BlobServiceClient


def image_blob_name(tenant_id: str, created_at: datetime, job_id: str, index: int, extension: str) -> str:
    """`images/{tenant}/{yyyy-mm-dd}/{jobId}-{n}.{ext}`: deterministic, so a retried upload overwrites."""
    return f"images/{tenant_id}/{created_at:%Y-%m-%d}/{job_id}-{index}.{extension}"


def input_blob_name(tenant_id: str, created_at: datetime, job_id: str, name: str) -> str:
    """`inputs/{tenant}/{yyyy-mm-dd}/{jobId}/{name}`: a job's reference images and mask."""
    return f"inputs/{tenant_id}/{created_at:%Y-%m-%d}/{job_id}/{name}"


class ImageStore:
    def __init__(self, service: BlobServiceClient, *, url_ttl: timedelta) -> None:
        self._service = service
        self._url_ttl = url_ttl
        self._delegation_key: UserDelegationKey | None = None
        self._delegation_key_expiry: datetime | None = None

    async def upload(
        self, container: str, blob_name: str, data: bytes, *, content_type: str, metadata: dict[str, str]
    ) -> None:
        from azure.storage.blob import ContentSettings

        blob = self._service.get_blob_client(container, blob_name)
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

    async def download(self, container: str, blob_name: str) -> bytes | None:
        """A blob's bytes, or None when it does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        blob = self._service.get_blob_client(container, blob_name)
        try:
            stream = await blob.download_blob()
            return bytes(await stream.readall())
        except ResourceNotFoundError:
            return None

    async def read_url(self, container: str, blob_name: str) -> str:
        """A read-only SAS URL: account-key signed where a key is configured, user-delegation signed
        (through the managed identity) otherwise."""
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        blob = self._service.get_blob_client(container, blob_name)
        expiry = utc_now() + self._url_ttl
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
