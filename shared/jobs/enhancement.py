"""Prompt enhancement (seed 001): the job's provider rewrites the prompt with its text model first.

An enhancement failure never fails the job: the original prompt is used and the job carries a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.models.jobs import MAX_PROMPT_LENGTH
from shared.providers.base import ImageProvider

logger = logging.getLogger(__name__)

_INSTRUCTION = (
    "You rewrite prompts for an image generation model. Keep the subject and every detail the user gave; "
    "add what makes a better image in the requested style. Answer with the rewritten prompt only, as one "
    "paragraph, without quotes or commentary. Style: {style}"
)

TEMPLATES: dict[str, str] = {
    "general": "balanced: subject, setting, lighting, composition and mood.",
    "photorealistic": "a photograph: camera, lens, aperture, lighting, depth of field, realistic textures.",
    "illustration": "an illustration: art style, medium, line work, colour palette, composition.",
    "minimalist": "minimalist: clean, simple, only the essential elements, generous negative space.",
    "sticker": "a sticker: bold outlines, limited flat colours, vector style, plain background.",
    "product": "a product shot: studio lighting, materials, reflections, clean or lifestyle backdrop.",
    "comic": "a comic panel: action lines, expressive faces, inked outlines, panel composition.",
}


@dataclass(frozen=True)
class EnhancedPrompt:
    """A prompt enhanced before the job exists (seed 001 answers with it); the worker draws from it as is."""

    prompt: str
    warning: str | None = None


def instruction_for(template: str) -> str:
    return _INSTRUCTION.format(style=TEMPLATES.get(template, TEMPLATES["general"]))


async def enhance_prompt(
    provider: ImageProvider, prompt: str, template: str, *, job_id: str
) -> tuple[str, str | None]:
    """The prompt to generate from, and a warning when enhancement failed and the original is used."""
    try:
        enhanced = await provider.complete_text(instruction_for(template), prompt)
    except Exception as exc:  # any failure: the job goes on with the caller's own prompt
        logger.warning("Job %s: prompt enhancement failed; using the original prompt", job_id, exc_info=True)
        return prompt, f"Prompt enhancement failed ({exc}); the original prompt was used."
    logger.info("Job %s: prompt enhanced with template %s", job_id, template)
    return enhanced[:MAX_PROMPT_LENGTH], None
