"""A submit through a preset: check the variables and files against its requirements, render the
template, and take the preset's defaults where the request sets none."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.errors import FieldProblem, invalid_field, invalid_fields, not_found
from shared.models.jobs import MAX_PROMPT_LENGTH, GenerationRequest
from shared.models.presets import PLACEHOLDER, PresetDocument, Requirement
from shared.presets.store import PresetStore
from shared.presets.uploads import Upload, group_uploads, reference_images

DEFAULT_TEXT_LENGTH = 500


@dataclass(frozen=True)
class PreparedSubmit:
    """What the job is created from once a preset (if any) has been applied."""

    prompt: str
    provider: str | None
    model: str | None
    aspect_ratio: str
    preset_id: str | None = None
    preset_name: str | None = None
    variables: dict[str, str] | None = None
    reference_images: list[dict[str, Any]] = field(default_factory=list)


async def prepare_submit(
    presets: PresetStore, tenant_id: str, request: GenerationRequest, uploads: list[Upload]
) -> PreparedSubmit:
    if request.preset_id is None:
        return _without_preset(request, uploads)
    preset = await presets.get(tenant_id, request.preset_id)
    if preset is None:
        raise not_found(f"Preset {request.preset_id!r}")
    files = _check_inputs(preset, request.variables, uploads)
    rendered = render(preset.prompt_template, _values(preset, request.variables))
    prompt = f"{rendered}\n\n{request.prompt}" if request.prompt else rendered
    if len(prompt) > MAX_PROMPT_LENGTH:
        raise invalid_field(
            "prompt",
            f"the rendered prompt is longer than {MAX_PROMPT_LENGTH} characters",
            detail="rendered prompt too long",
        )
    explicit = request.model_fields_set
    provider = request.provider or preset.default_provider
    return PreparedSubmit(
        prompt=prompt,
        provider=provider,
        # The preset's model belongs to its provider: a request naming another provider gets that one's.
        model=request.model or (preset.default_model if provider == preset.default_provider else None),
        aspect_ratio=(
            request.aspect_ratio
            if "aspect_ratio" in explicit or not preset.default_aspect_ratio
            else preset.default_aspect_ratio
        ),
        preset_id=preset.id,
        preset_name=preset.name,
        variables=dict(request.variables),
        reference_images=reference_images(files),
    )


def render(template: str, values: dict[str, str]) -> str:
    """Replace every `{{name}}` with its value (values are inserted literally, never re-rendered)."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)


def _without_preset(request: GenerationRequest, uploads: list[Upload]) -> PreparedSubmit:
    # The request's own rules (a prompt, no variables) held when it was validated; files come beside it.
    if uploads:
        raise invalid_fields(
            [FieldProblem(u.field, "files need a preset with file requirements") for u in uploads]
        )
    assert request.prompt is not None
    return PreparedSubmit(
        prompt=request.prompt,
        provider=request.provider,
        model=request.model,
        aspect_ratio=request.aspect_ratio,
    )


def _check_inputs(preset: PresetDocument, variables: dict[str, str], uploads: list[Upload]) -> list[Upload]:
    """The files in requirement order; any missing, unknown or invalid input is a 400 naming it."""
    errors: list[FieldProblem] = []
    by_key = {r.key: r for r in preset.requirements}
    for name in variables:
        requirement = by_key.get(name)
        if requirement is None or requirement.type == "file":
            errors.append(FieldProblem(f"variables.{name}", "not a variable of this preset"))
    file_keys = {r.key for r in preset.requirements if r.type == "file"}
    grouped, unknown = group_uploads(uploads, file_keys)
    errors += [FieldProblem(name, "not a file requirement of this preset") for name in unknown]
    files: list[Upload] = []
    for requirement in preset.requirements:
        if requirement.type == "file":
            given = grouped.get(requirement.key, [])
            problem = _file_problem(requirement, len(given))
            if problem:
                errors.append(FieldProblem(requirement.key, problem))
            files += given
        else:
            problem = _variable_problem(requirement, variables.get(requirement.key))
            if problem:
                errors.append(FieldProblem(f"variables.{requirement.key}", problem))
    if errors:
        raise invalid_fields(errors)
    return files


def _variable_problem(requirement: Requirement, value: str | None) -> str | None:
    if value is None or not value.strip():
        return "required by the preset" if requirement.required else None
    if requirement.type == "enum" and value not in (requirement.options or []):
        return f"must be one of: {', '.join(requirement.options or [])}"
    limit = requirement.max_length or DEFAULT_TEXT_LENGTH
    if requirement.type == "text" and len(value) > limit:
        return f"at most {limit} characters"
    return None


def _file_problem(requirement: Requirement, count: int) -> str | None:
    if count == 0:
        return "a file is required by the preset" if requirement.required else None
    if count > 1 and not requirement.multiple:
        return "takes one file"
    return None


def _values(preset: PresetDocument, variables: dict[str, str]) -> dict[str, str]:
    return {r.key: variables.get(r.key, "").strip() for r in preset.requirements if r.type != "file"}
