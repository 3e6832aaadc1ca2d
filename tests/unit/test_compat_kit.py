"""The compat kit's parts, and jobs stored before compat fields were grouped in `origin`."""

from __future__ import annotations

from shared.compat import kit
from shared.compat.seed003 import FAILURES as SEED003_FAILURES
from shared.compat.seed003_models import SeedError
from shared.errors import ApiError
from shared.models.jobs import JobDocument, JobError, JobOrigin, JobStatus
from tests.fakes.jobs import stored_job


def test_field_names_rename_by_name_and_reference_fields_by_index() -> None:
    rename = kit.field_names(
        {"n": "sampleCount"}, reference=lambda index, rest: f"refs[{index}]{rest}" if index < 2 else None
    )

    assert rename("n") == "sampleCount"
    assert rename("prompt") == "prompt"
    assert rename("referenceImages[1].url") == "refs[1].url"
    assert rename("referenceImages[2]") == "referenceImages[2]"


def test_only_a_400_is_put_in_the_family_terms() -> None:
    rename = kit.field_names({"n": "sampleCount"})
    bad = ApiError(400, "VALIDATION_ERROR", "Invalid request: n: too many", details=[{"field": "n"}])
    other = ApiError(402, "INSUFFICIENT_CREDITS", "n credits short")

    renamed = kit.in_family_terms(bad, rename)

    assert renamed.details == [{"field": "sampleCount"}] and "sampleCount" in renamed.message
    assert kit.in_family_terms(other, rename) is other


def test_a_failure_map_answers_by_code_with_the_familys_own_codes_and_details() -> None:
    timed_out = SEED003_FAILURES.error(stored_job(JobStatus.FAILED, JobError(code="TIMEOUT", message="slow")))
    unknown_code = JobError(code="SOMETHING_NEW", message="?")
    unknown = SEED003_FAILURES.error(stored_job(JobStatus.FAILED, unknown_code))
    no_output = SEED003_FAILURES.error(stored_job(JobStatus.SUCCEEDED))

    assert isinstance(timed_out, SeedError)
    assert (timed_out.status, timed_out.code, timed_out.message) == (504, "TIMEOUT", "slow")
    assert timed_out.details == {"jobId": "j", "reason": "TIMEOUT"}
    assert (unknown.status, unknown.code, unknown.details) == (
        500,
        "SYSTEM_ERROR",
        {"jobId": "j", "reason": "SOMETHING_NEW"},
    )
    assert (no_output.status, no_output.code) == (500, "SYSTEM_ERROR")
    assert no_output.message == "The job ended succeeded."


def test_origin_stores_only_what_its_family_uses() -> None:
    seed000 = JobOrigin(route="seed000", subject="k", input_urls=["https://x/a.png", None])
    seed003 = JobOrigin(route="seed003", subject="k", blob_naming="uuid")

    assert seed000.model_dump(mode="json") == {
        "route": "seed000",
        "subject": "k",
        "inputUrls": ["https://x/a.png", None],
    }
    assert seed003.model_dump(mode="json") == {"route": "seed003", "subject": "k", "blobNaming": "uuid"}
    assert JobOrigin.model_validate(seed003.model_dump(mode="json")) == seed003


def test_a_job_stored_with_the_blob_naming_in_its_spec_keeps_its_uuid_names() -> None:
    stored = stored_job(JobStatus.RUNNING).model_dump(mode="json")
    stored["spec"]["blobNaming"] = "uuid"
    native = stored_job(JobStatus.RUNNING).model_dump(mode="json")
    native["spec"]["blobNaming"] = "indexed"

    assert JobDocument.model_validate(stored).blob_naming == "uuid"
    assert JobDocument.model_validate(native).blob_naming == "indexed"
    assert JobDocument.model_validate(native).origin is None
