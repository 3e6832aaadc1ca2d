"""What every compatibility route family does the same way on the native core.

A family turns its documented request into the native one (`native_request`, its 400s naming the
caller's own fields: `field_names`, `in_family_terms`), submits it as a native job recorded as its own
(`submit`, `submit_and_wait`, with `JobOrigin` on the job), answers a job that ended without its image by
the job's error code (`FailureMap`), and renders every error in its document's shape (`error_renderer`).
Each family (`shared/compat/seedNNN.py`, shapes in `seedNNN_models.py`) keeps only what its document
says differently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from pydantic import BaseModel

from shared.app_context import AppContext
from shared.errors import ApiError, renamed_fields
from shared.http.auth import Principal
from shared.http.handler import ErrorRenderer, validate_body
from shared.http.responses import json_response
from shared.jobs import service
from shared.jobs.references import split_reference_field
from shared.jobs.waiting import wait_for_terminal
from shared.models.errors import ErrorCode
from shared.models.jobs import BlobNaming, GenerationRequest, JobDocument, JobOrigin, JobStatus

logger = logging.getLogger(__name__)

FieldNames = Callable[[str], str]
Translation = Callable[[ApiError], ApiError]


def _unchanged(error: ApiError) -> ApiError:
    return error


def field_names(
    renamed: Mapping[str, str] | None = None, *, reference: Callable[[int, str], str | None] | None = None
) -> FieldNames:
    """A native field name as a family's caller knows it: `renamed` by name, and a reference image's
    field (`referenceImages[i]` and what follows, e.g. `.url`) by `reference(i, rest)`, which returns None
    to keep the native name."""
    names = dict(renamed or {})

    def rename(native: str) -> str:
        index_and_rest = split_reference_field(native)
        if index_and_rest is not None and reference is not None:
            return reference(*index_and_rest) or native
        return names.get(native, native)

    return rename


def in_family_terms(error: ApiError, rename: FieldNames) -> ApiError:
    """A native 400 naming the caller's fields (in `details` and the message); other errors unchanged."""
    return renamed_fields(error, rename) if error.status == 400 else error


def native_request(fields: Mapping[str, object], rename: FieldNames | None = None) -> GenerationRequest:
    """The native request from native field names (camelCase). Fields that are None are left unset, so a
    preset's defaults keep applying to them; a refusal is the native 400 in the caller's field names."""
    given = {name: value for name, value in fields.items() if value is not None}
    try:
        return validate_body(given, GenerationRequest)
    except ApiError as error:
        raise (error if rename is None else in_family_terms(error, rename)) from error


async def submit(
    ctx: AppContext,
    family: str,
    principal: Principal,
    request: GenerationRequest,
    *,
    translate: Translation = _unchanged,
    input_urls: Sequence[str | None] = (),
    blob_naming: BlobNaming = "indexed",
    **options: Any,
) -> JobDocument:
    """`service.submit_generation` for a family: the job records the family and its caller (`origin`),
    and a refused submit is answered as `translate` says. `options` are the native submit's."""
    origin = JobOrigin(
        route=family, subject=principal.subject, input_urls=list(input_urls), blob_naming=blob_naming
    )
    try:
        job = await service.submit_generation(ctx, principal.tenant_id, request, origin=origin, **options)
    except ApiError as error:
        raise translate(error) from error
    logger.info("Job %s submitted through %s", job.id, family)
    return job


async def submit_and_wait(
    ctx: AppContext, family: str, principal: Principal, request: GenerationRequest, **submit_options: Any
) -> JobDocument:
    """`submit`, then `wait`: the job as it then stands."""
    job = await submit(ctx, family, principal, request, **submit_options)
    return await wait(ctx, job, family)


async def wait(ctx: AppContext, job: JobDocument, family: str) -> JobDocument:
    """Wait up to the family's COMPAT_WAIT_SECONDS for the job to end: the job as it then stands. What a
    job still running answers is the family's document's to say."""
    seconds = ctx.settings.compat_wait(family)
    job = await wait_for_terminal(ctx, job, seconds)
    if not job.status.is_terminal:
        logger.info("Job %s still %s after the %g s wait of %s", job.id, job.status.value, seconds, family)
    return job


@dataclass(frozen=True)
class Failure:
    """A family's answer to one job error code: its status and, where the family names it differently,
    its code (None: the job's own)."""

    status: int
    code: str | None = None


@dataclass(frozen=True)
class FailureMap:
    """How a family answers a job that ended without its image (failed, canceled, or with no output), by
    the job's error code: `PROCESSING_FAILED` when the job carries none, with `unexplained` as its
    message (`{status}` is the job's status)."""

    by_code: Mapping[str, Failure]
    otherwise: Failure
    unexplained: str = "The generation failed."
    # A family's own answer to a canceled job; None: a canceled job is an unexplained failure.
    canceled: Failure | None = None
    canceled_message: str = "The generation was canceled."
    # What `details` carries: from the job and the code behind the answer.
    details: Callable[[JobDocument, str], Any] = field(default=lambda job, code: None)
    error_type: type[ApiError] = ApiError

    def error(self, job: JobDocument) -> ApiError:
        if job.status is JobStatus.CANCELED and self.canceled is not None:
            code = self.canceled.code or ErrorCode.CANCELED
            return self.error_type(
                self.canceled.status, code, self.canceled_message, details=self.details(job, code)
            )
        code = job.error.code if job.error else ErrorCode.PROCESSING_FAILED
        message = job.error.message if job.error else self.unexplained.format(status=job.status)
        answer = self.by_code.get(code, self.otherwise)
        return self.error_type(answer.status, answer.code or code, message, details=self.details(job, code))


def error_renderer(
    body: Callable[[ApiError], BaseModel], *, translate: Translation = _unchanged
) -> ErrorRenderer:
    """The `api_endpoint` renderer of a family: every error (`translate`d first, when the family has its
    own codes) as `body` says, with its status and headers (`Retry-After`, rate-limit state)."""

    def render(error: ApiError) -> func.HttpResponse:
        error = translate(error)
        return json_response(body(error), status=error.status, headers=dict(error.headers))

    return render
