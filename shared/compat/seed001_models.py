"""Seed 001 (`/api/v1/generations`): request and response shapes exactly as documented."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from shared.models.common import ApiModel, RequestModel, UtcDateTime
from shared.models.jobs import MAX_PROMPT_LENGTH, JobStatus

EnhancementTemplate = Literal[
    "general", "photorealistic", "illustration", "minimalist", "sticker", "product", "comic"
]


class GenerationStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"

    @classmethod
    def from_job(cls, status: JobStatus) -> GenerationStatus:
        return _STATUS_FROM_JOB[status]

    def job_statuses(self) -> tuple[JobStatus, ...]:
        return tuple(job for job, mapped in _STATUS_FROM_JOB.items() if mapped is self)


_STATUS_FROM_JOB = {
    JobStatus.QUEUED: GenerationStatus.PENDING,
    JobStatus.RUNNING: GenerationStatus.PROCESSING,
    JobStatus.SUCCEEDED: GenerationStatus.SUCCESS,
    JobStatus.FAILED: GenerationStatus.FAILED,
    # The seed has no canceled state; a canceled generation did not produce its image.
    JobStatus.CANCELED: GenerationStatus.FAILED,
}


class EnhancementOptions(RequestModel):
    template: EnhancementTemplate = "general"


class CreateGenerationRequest(RequestModel):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_LENGTH)
    aspect_ratio: Literal["1:1", "16:9", "9:16", "3:2", "21:9"] = "1:1"
    auto_enhance: bool = True
    enhancement_options: EnhancementOptions | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class OutputImage(ApiModel):
    id: str
    storage_url: str
    mime_type: str
    width: int
    height: int
    file_size: int


class Generation(ApiModel):
    id: str
    project_id: str
    prompt: str
    original_prompt: str
    auto_enhance: bool
    aspect_ratio: str
    status: GenerationStatus
    output_image_id: str | None = None
    output_image: OutputImage | None = None
    processing_time_ms: int | None = None
    retry_count: int = 0
    error_message: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDateTime
    updated_at: UtcDateTime


class GenerationEnvelope(ApiModel):
    success: Literal[True] = True
    data: Generation


class Pagination(ApiModel):
    limit: int
    offset: int
    total: int
    has_more: bool


class GenerationList(ApiModel):
    success: Literal[True] = True
    data: list[Generation]
    pagination: Pagination


class DeletedMessage(ApiModel):
    success: Literal[True] = True
    message: str = "Generation deleted"


class Seed001ErrorBody(ApiModel):
    code: str
    message: str
    details: Any = None


class Seed001Error(ApiModel):
    """The seed names codes but shows no error body; its success/data convention gives this shape."""

    success: Literal[False] = False
    error: Seed001ErrorBody
