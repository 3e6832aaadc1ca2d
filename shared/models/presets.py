"""Presets (seed 002): a named prompt template with `{{variable}}` placeholders, the requirements that
fill them (text, enum with options, file uploads) and default provider, model and aspect ratio."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from shared.models.common import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ApiModel,
    RequestModel,
    StoredModel,
    UtcDateTime,
)
from shared.models.jobs import MAX_PROMPT_LENGTH, AspectRatio

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MAX_REQUIREMENTS = 20
DEFAULT_TEXT_LENGTH = 500


def placeholders(template: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


class Requirement(RequestModel):
    """One input a preset needs: a text or enum variable of the template, or a file (reference image)."""

    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)*$", max_length=64)
    type: Literal["text", "enum", "file"]
    label: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    required: bool = True
    options: list[str] | None = Field(default=None, max_length=100, description="enum: the allowed values.")
    max_length: int | None = Field(
        default=None, ge=1, le=MAX_PROMPT_LENGTH, description="text: longest value."
    )
    multiple: bool = Field(default=False, description="file: accept several files (`key_0`, `key_1`, ...).")

    @model_validator(mode="after")
    def _fits_its_type(self) -> Requirement:
        if self.type == "enum":
            if not self.options or len(set(self.options)) != len(self.options):
                raise ValueError("an enum requirement needs distinct options")
        elif self.options is not None:
            raise ValueError("options are only for enum requirements")
        if self.multiple and self.type != "file":
            raise ValueError("multiple is only for file requirements")
        if self.max_length is not None and self.type != "text":
            raise ValueError("maxLength is only for text requirements")
        return self


class PresetInput(RequestModel):
    """`POST /api/v1/presets` and `PUT /api/v1/presets/{id}`."""

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    prompt_template: str = Field(min_length=1, max_length=MAX_PROMPT_LENGTH)
    requirements: list[Requirement] = Field(default_factory=list, max_length=MAX_REQUIREMENTS)
    default_provider: str | None = None
    default_model: str | None = None
    default_aspect_ratio: AspectRatio | None = None

    @model_validator(mode="after")
    def _template_matches_requirements(self) -> PresetInput:
        keys = [r.key for r in self.requirements]
        if len(set(keys)) != len(keys):
            raise ValueError("requirement keys must be distinct")
        variables = {r.key for r in self.requirements if r.type != "file"}
        files = {r.key for r in self.requirements if r.type == "file"}
        used = placeholders(self.prompt_template)
        undeclared = [name for name in used if name not in variables]
        if undeclared:
            hint = " (file requirements become reference images, not text)" if set(undeclared) & files else ""
            raise ValueError(f"the template uses undeclared variables: {', '.join(undeclared)}{hint}")
        return self


class PresetDocument(StoredModel):
    """A preset as stored (container `presets`, partition key `/tenantId`)."""

    id: str
    tenant_id: str
    doc_type: Literal["preset"] = "preset"
    name: str
    description: str | None = None
    prompt_template: str
    requirements: list[Requirement] = Field(default_factory=list)
    default_provider: str | None = None
    default_model: str | None = None
    default_aspect_ratio: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class PresetView(ApiModel):
    id: str
    name: str
    description: str | None = None
    prompt_template: str
    requirements: list[Requirement]
    default_provider: str | None = None
    default_model: str | None = None
    default_aspect_ratio: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, preset: PresetDocument) -> PresetView:
        return cls.model_validate(preset.model_dump(exclude={"tenant_id", "doc_type"}))


class PresetListQuery(RequestModel):
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = None


class PresetPage(ApiModel):
    items: list[PresetView]
    next_page_token: str | None = None
