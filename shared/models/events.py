"""Event Grid events the app consumes: `Microsoft.Storage.BlobCreated` from the storage account.

The same model describes what the local Event Grid front end sends, so local events have Azure's shape.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

BLOB_CREATED = "Microsoft.Storage.BlobCreated"


class BlobCreatedData(BaseModel):
    """`data` of a `Microsoft.Storage.BlobCreated` event (both the Event Grid schema and CloudEvents 1.0)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    api: str = Field(description="Storage operation that created the blob (PutBlob, PutBlockList, ...).")
    client_request_id: str | None = Field(default=None, alias="clientRequestId")
    request_id: str | None = Field(default=None, alias="requestId")
    e_tag: str = Field(alias="eTag", description="eTag of the blob as created.")
    content_type: str | None = Field(default=None, alias="contentType")
    content_length: int | None = Field(default=None, alias="contentLength")
    blob_type: str | None = Field(default=None, alias="blobType")
    url: str = Field(description="The blob's URL.")
    sequencer: str | None = None
    storage_diagnostics: dict[str, Any] | None = Field(default=None, alias="storageDiagnostics")
