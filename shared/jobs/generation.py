"""One worker attempt at a job's images: inputs from the claim check, prompt enhancement, the provider
call (through the model's quota, if it has one), and the fallback chain when the provider is unavailable."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from shared.app_context import AppContext
from shared.images.sniff import sniff_mime
from shared.jobs.enhancement import enhance_prompt
from shared.jobs.repository import Mutation
from shared.models.errors import ErrorCode
from shared.models.jobs import JobDocument
from shared.providers.base import ImageCall, InputImage, ProviderError, ProviderResult
from shared.providers.catalog import ProviderCatalog, UnknownModelError
from shared.scheduling.gate import QuotaDeferral, QuotaGate
from shared.telemetry.jobs import ENHANCE, OUTCOME, PROVIDER, provider_call
from shared.telemetry.tracing import span

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Generated:
    result: ProviderResult
    served_by: str  # `provider/model`


async def generate_for_job(ctx: AppContext, job: JobDocument, owned: Mutation, gate: QuotaGate) -> Generated:
    """The job's images; ProviderError when no provider in the chain produced them, QuotaDeferral when the
    job must wait for its model's quota instead (no slot now, or the provider refused with 429). `owned`
    guards the run's writes (its claim); `gate` paces each call of a model with a quota."""
    references = tuple([await _input(ctx, job, name) for name in job.spec.reference_blobs])
    mask = await _input(ctx, job, job.spec.mask_blob) if job.spec.mask_blob else None
    prompt = await _prompt(ctx, job, owned)
    call = ImageCall(spec=job.spec.model_copy(update={"prompt": prompt}), references=references, mask=mask)
    chain = [
        (job.spec.provider, job.spec.model),
        *fallback_chain(
            ctx.settings.provider_fallbacks, ctx.providers.catalog, job.spec.provider, job.spec.model
        ),
    ]
    warnings: list[str] = []
    # What the attempt ends with if no later provider in the chain produces the images.
    unavailable: ProviderError | QuotaDeferral | None = None
    for position, (provider_name, model) in enumerate(chain):
        provider = ctx.providers.get(provider_name)
        last = position == len(chain) - 1
        logger.info("Job %s: attempt %d with %s/%s", job.id, job.attempts, provider_name, model)
        try:
            async with gate.call(provider_name, model):
                with provider_call(job, provider_name, model, fallback=position > 0):
                    result = await provider.generate(call.on(provider_name, model))
        except QuotaDeferral as deferral:
            # The job's own model waits in line; a fallback with no free slot is skipped, not waited for.
            if position == 0:
                raise
            logger.warning("Job %s: fallback %s/%s skipped: %s", job.id, provider_name, model, deferral)
            if last and unavailable is not None:
                raise unavailable from deferral
            continue
        except ProviderError as error:
            wait = await gate.refused(provider_name, model, error.retry_after) if error.rate_limited else None
            # A 429 of a model with a declared quota is a wait for that quota, not a failed attempt.
            outcome: ProviderError | QuotaDeferral = (
                error if wait is None else QuotaDeferral(wait, error.message, refused=True)
            )
            # Fall back only when the provider is unavailable; a refusal would be refused again elsewhere
            # and a content-policy block must never be shopped around.
            if not error.transient or last:
                if outcome is error:
                    raise
                raise outcome from error
            logger.warning("Job %s: %s unavailable (%s); falling back", job.id, provider_name, error.message)
            warnings.append(f"{provider_name}/{model} was unavailable ({error.message}); fell back.")
            unavailable = outcome
            continue
        result = replace(result, warnings=[*warnings, *result.warnings])
        return Generated(result=result, served_by=f"{provider_name}/{model}")
    raise AssertionError("the provider chain is never empty")


def fallback_chain(
    fallbacks: dict[str, str], catalog: ProviderCatalog, provider: str, model: str
) -> list[tuple[str, str]]:
    """The fallback chain (PROVIDER_FALLBACKS) from `provider/model`: a `provider/model` key wins over a
    `provider` key; a target without a model runs on its provider's default model; a target that is not
    configured ends the chain, and so does a loop."""
    chain: list[tuple[str, str]] = []
    seen = {(provider, model)}
    current = (provider, model)
    while target := fallbacks.get(f"{current[0]}/{current[1]}") or fallbacks.get(current[0]):
        target_provider, _, target_model = target.partition("/")
        try:
            choice = catalog.resolve(target_provider, target_model or None)
        except UnknownModelError:
            logger.warning("Fallback %s is not configured; the chain ends at %s/%s", target, *current)
            break
        current = (choice.provider.value, choice.model)
        if current in seen:
            break
        seen.add(current)
        chain.append(current)
    return chain


async def _input(ctx: AppContext, job: JobDocument, blob_name: str) -> InputImage:
    data = await ctx.images.download(ctx.settings.inputs_container, blob_name)
    if data is None:
        raise ProviderError(ErrorCode.INVALID_INPUT, f"The job's input {blob_name} is no longer stored.")
    return InputImage(data=data, mime_type=sniff_mime(data) or "image/png")


async def _prompt(ctx: AppContext, job: JobDocument, owned: Mutation) -> str:
    """The prompt to draw from: enhanced once (kept on the job, so a retry reuses it) when asked."""
    if not job.spec.auto_enhance:
        return job.spec.prompt
    if job.enhanced_prompt:
        return job.enhanced_prompt
    provider = ctx.providers.get(job.spec.provider)
    template = job.spec.enhancement_template or "general"
    with span(ENHANCE, {PROVIDER: job.spec.provider, "imagegen.enhancement.template": template}) as enhancing:
        prompt, warning = await enhance_prompt(provider, job.spec.prompt, template, job_id=job.id)
        enhancing.set_attribute(OUTCOME, "original_kept" if warning else "enhanced")

    def record(doc: JobDocument) -> bool:
        if not owned(doc):
            return False
        doc.enhanced_prompt = prompt
        if warning:
            doc.warnings = [*doc.warnings, warning]
        return True

    await ctx.jobs.update(job.tenant_id, job.id, record)
    return prompt
