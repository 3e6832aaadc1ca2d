"""Base model and field types shared by every API and stored model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from shared import clock

# Every list answer's page size: its default and the most one page may hold.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def iso_utc(value: datetime) -> str:
    # One fixed width (milliseconds, `Z`) so stored timestamps also sort correctly as strings.
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


UtcDateTime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str, when_used="json")]


def utc_now() -> datetime:
    return datetime.fromtimestamp(clock.time(), UTC)


def elapsed_ms(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() * 1000))


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, defer_build=True
    )


class RequestModel(ApiModel):
    """A request body: unknown fields are refused so that a typo is an error, not a silent default, and JSON
    types are strict (a boolean is `true`/`false`, a number a number, a string a string: no `"yes"`, `1` or
    `"5"` coerced). Values that arrive as text by nature, query parameters and multipart form fields, are
    converted from text where they are read (`parse_query`, `validate_body`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class StoredModel(ApiModel):
    """A Cosmos DB document: the system properties Cosmos adds (`_etag`, `_ts`, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")
