"""Seed 002 (`/v0/images/...`, `/v0/usage`): request and response shapes as documented."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from shared.models.common import ApiModel, RequestModel
from shared.models.jobs import AspectRatio, JobStatus


class V0Status(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"

    @classmethod
    def from_job(cls, status: JobStatus) -> V0Status:
        return {
            JobStatus.QUEUED: cls.QUEUED,
            JobStatus.RUNNING: cls.ACTIVE,
            JobStatus.SUCCEEDED: cls.COMPLETED,
            JobStatus.FAILED: cls.FAILED,
            JobStatus.CANCELED: cls.FAILED,
        }[status]


class RefImage(RequestModel):
    mime_type: Literal["image/png", "image/jpeg", "image/webp"]
    data: str = Field(min_length=1)


class V0GenerationRequest(RequestModel):
    # Optional because a preset with a complete template needs none; checked after rendering.
    prompt: str | None = None
    negative_prompt: str | None = None
    preset_id: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    aspect_ratio: AspectRatio | None = None
    resolution: Literal["low", "standard", "high", "4k"] = "standard"
    sample_count: int = Field(default=1, ge=1)
    model_version: str | None = None
    is_public: bool = False
    ref_image_base64: list[RefImage] = Field(default_factory=list, max_length=5)
    ref_image_urls: list[str] = Field(default_factory=list, max_length=5)


class V0Image(ApiModel):
    id: str
    url: str | None = None
    storage_key: str | None = None
    width: int | None = None
    height: int | None = None
    b64_json: str | None = None


class V0Usage(ApiModel):
    credits: int


class V0Job(ApiModel):
    id: str
    status: V0Status | None = None
    created: int
    model: str
    data: list[V0Image] | None = None
    usage: V0Usage | None = None
    error: str | None = None


class V0JobEnvelope(ApiModel):
    data: V0Job


class V0Timeout(ApiModel):
    error: str
    job_id: str
    hint: str


class V0Error(ApiModel):
    """Seed 002 shows flat string errors (`{"error": "..."}`); codes ride along for clients that want them."""

    error: str
    code: str
    details: Any = None
