"""The formats of the ids the service mints, and the checks a caller's id passes before any store sees it.

Every id has exactly one format, so a value from a URL path or a body that is not in it names nothing
that can exist: path ids answer as an unknown id does (404), body fields a 400 naming the field, and no
store is asked. The stores refuse anything that is not a plain document id on their own
(`shared.store_keys`); these checks are the precise ones, that is the backstop.

Every check is a full match: `re.match` with `$` would accept a trailing newline (`"tenant-a\\n"`).
"""

from __future__ import annotations

import re
import uuid
from typing import TypeIs

# Tenant ids are Cosmos DB partition key values and blob path segments. Pydantic's `pattern` (Rust regex)
# anchors `$` at the very end of the text; Python code uses `is_tenant_id`.
TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
PRESET_ID_PATTERN = r"^preset_[0-9a-f]{32}$"

_JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_IMAGE_INDEX = re.compile(r"[0-9]{1,4}")
_TENANT_ID = re.compile(TENANT_ID_PATTERN.removeprefix("^").removesuffix("$"))
_PRESET_ID = re.compile(PRESET_ID_PATTERN.removeprefix("^").removesuffix("$"))
_API_KEY_ID = re.compile(r"[0-9a-f]{16}")


def new_job_id() -> str:
    return str(uuid.uuid4())


def new_preset_id() -> str:
    return f"preset_{uuid.uuid4().hex}"


def is_job_id(value: str) -> bool:
    """A job id: a lower-case UUID (also the id of seed 000's and seed 001's generations, seed 002's jobs)."""
    return _JOB_ID.fullmatch(value) is not None


def image_id(job_id: str, index: int) -> str:
    """An output image's id: `{jobId}-{n}`."""
    return f"{job_id}-{index}"


def split_image_id(value: str) -> tuple[str, int] | None:
    """`{jobId}-{n}` as (job id, n); None for anything else."""
    job_id, sep, index = value.rpartition("-")
    if not sep or not is_job_id(job_id) or _IMAGE_INDEX.fullmatch(index) is None:
        return None
    return job_id, int(index)


def is_preset_id(value: str) -> bool:
    return _PRESET_ID.fullmatch(value) is not None


def is_api_key_id(value: str) -> bool:
    """The id part of an API key (`igk_<keyId>_<secret>`): 16 lower-case hex digits."""
    return _API_KEY_ID.fullmatch(value) is not None


def is_tenant_id(value: object) -> TypeIs[str]:
    return isinstance(value, str) and _TENANT_ID.fullmatch(value) is not None
