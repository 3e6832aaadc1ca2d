"""API keys and scopes: the admin routes' requests and answers, and the stored key document."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared.ids import TENANT_ID_PATTERN
from shared.models.common import ApiModel, RequestModel, StoredModel, UtcDateTime


class Scope(StrEnum):
    """What a caller may do. Tokens carry the configured scope names; they are mapped onto these."""

    READ = "read:image-gen"
    WRITE = "write:image-gen"


class ApiKeyCreateRequest(RequestModel):
    """`POST /api/v1/admin/api-keys`."""

    tenant_id: str = Field(pattern=TENANT_ID_PATTERN, description="Tenant the key acts for.")
    name: str | None = Field(default=None, max_length=200, description="A label for people.")
    scopes: list[Scope] = Field(
        default_factory=lambda: [Scope.READ, Scope.WRITE],
        min_length=1,
        description="What the key may do; `write:image-gen` implies `read:image-gen`.",
    )
    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Requests per window (RATE_LIMIT_WINDOW_SECONDS); default RATE_LIMIT_PER_WINDOW.",
    )


class ApiKeyDocument(StoredModel):
    """A key as stored in Cosmos DB (container `api-keys`, partition key `/id`): never the key itself."""

    id: str
    doc_type: Literal["apiKey"] = "apiKey"
    tenant_id: str
    name: str | None = None
    key_hash: str
    scopes: list[Scope]
    rate_limit: int
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None = None


class ApiKeyView(ApiModel):
    """A key as the admin routes show it."""

    id: str
    tenant_id: str
    name: str | None = None
    scopes: list[Scope]
    rate_limit: int
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None = None


class ApiKeyCreated(ApiKeyView):
    """The answer to creating a key: the only time the plain key is shown."""

    key: str = Field(description="The API key; send it in X-API-Key. It cannot be retrieved again.")


class ApiKeyList(ApiModel):
    data: list[ApiKeyView]


def key_view(document: ApiKeyDocument) -> ApiKeyView:
    return ApiKeyView.model_validate(document.model_dump(exclude={"key_hash", "doc_type"}))
