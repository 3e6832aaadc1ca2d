"""Paging: offset windows over continuation pages, page tokens tied to their query, and the queries'
SQL (which page tokens are fingerprinted by)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from shared.errors import ApiError
from shared.jobs.repository import JobFilter, gallery_query, images_query, jobs_query
from shared.models.jobs import JobStatus
from shared.paging import decode_page_token, encode_page_token, fingerprint, offset_window, query_fingerprint


class PagedQuery:
    """A query result served in pages of uneven sizes, as Cosmos may return them, with opaque tokens."""

    def __init__(self, total: int, page_sizes: list[int]) -> None:
        self.items = list(range(total))
        self.page_sizes = page_sizes
        self.calls = 0

    async def fetch(self, size: int, token: str | None) -> tuple[list[int], str | None]:
        start = int(token) if token else 0
        count = min(size, self.page_sizes[self.calls % len(self.page_sizes)])
        self.calls += 1
        end = start + count
        return self.items[start:end], (str(end) if end < len(self.items) else None)


@pytest.mark.parametrize("page_sizes", [[100], [7], [3, 10, 1], [0, 5]])
@pytest.mark.parametrize(("offset", "limit"), [(0, 20), (5, 10), (19, 1), (95, 10), (120, 30), (0, 130)])
def test_offset_window_is_the_slice_whatever_the_page_sizes(
    page_sizes: list[int], offset: int, limit: int
) -> None:
    query = PagedQuery(125, page_sizes)

    window = asyncio.run(offset_window(query.fetch, offset=offset, limit=limit, page_size=100))

    assert window == query.items[offset : offset + limit]


def test_offset_window_stops_reading_once_the_window_is_full() -> None:
    query = PagedQuery(1000, [10])

    window = asyncio.run(offset_window(query.fetch, offset=25, limit=10, page_size=10))

    assert window == list(range(25, 35))
    assert query.calls == 4  # pages 0-9, 10-19, 20-29, 30-39; nothing after


def test_offset_window_refuses_a_negative_offset() -> None:
    with pytest.raises(ValueError):
        asyncio.run(offset_window(PagedQuery(1, [1]).fetch, offset=-1, limit=1))


def test_a_page_token_belongs_to_its_query() -> None:
    mine = query_fingerprint(jobs_query("t", JobFilter()), 20)
    token = encode_page_token("cosmos-token", mine)

    assert decode_page_token(token, mine) == "cosmos-token"
    for other in (
        query_fingerprint(jobs_query("t", JobFilter(statuses=(JobStatus.FAILED,))), 20),
        query_fingerprint(jobs_query("t", JobFilter()), 21),
        query_fingerprint(jobs_query("u", JobFilter()), 20),
    ):
        with pytest.raises(ApiError) as refused:
            decode_page_token(token, other)
        assert refused.value.status == 400 and refused.value.details[0]["field"] == "pageToken"
        message = refused.value.message
        assert message.startswith("Invalid query parameter pageToken: not a token of this query;")
        assert "leave it out for the first page" in message
    with pytest.raises(ApiError) as garbled:
        decode_page_token("not-base64!", mine)
    assert garbled.value.details == [{"field": "pageToken", "message": "not a token of this query"}]


# Page tokens handed out are fingerprints of (partition, SQL, parameters, page size): the SQL of the
# token-paged lists stays as it was written, so tokens a client holds keep working across a deploy.
VISIBLE = "(NOT IS_DEFINED(c.deletedAt) OR IS_NULL(c.deletedAt))"
ROWS = 'SELECT c AS job, o["index"] AS imageIndex FROM c JOIN o IN c.outputs'


def test_the_job_list_sql() -> None:
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    query = jobs_query("t", JobFilter(statuses=(JobStatus.QUEUED,), preset_id="preset_x", created_from=since))

    assert query.sql == (
        "SELECT * FROM c WHERE c.docType = 'job' AND c.tenantId = @tenant AND c.status = @status "
        f"AND c.presetId = @presetId AND c.createdAt >= @createdFrom AND {VISIBLE} ORDER BY c.createdAt DESC"
    )
    assert query.parameters == [
        {"name": "@tenant", "value": "t"},
        {"name": "@status", "value": "queued"},
        {"name": "@presetId", "value": "preset_x"},
        {"name": "@createdFrom", "value": "2026-01-02T03:04:05.000Z"},
    ]
    assert query_fingerprint(query, 20) == fingerprint("t", query.sql, query.parameters, 20)
    assert VISIBLE not in jobs_query("t", JobFilter(include_deleted=True)).sql


def test_several_statuses_are_one_in_list() -> None:
    query = jobs_query("t", JobFilter(statuses=(JobStatus.FAILED, JobStatus.CANCELED)))

    assert "c.status IN (@status0, @status1)" in query.sql
    assert query.count_sql.startswith("SELECT VALUE COUNT(1) FROM c WHERE c.docType = 'job' AND ")
    assert "ORDER BY" not in query.count_sql


def test_the_library_and_gallery_sql() -> None:
    library = images_query("t", preset_id="preset_x", search="Boat")
    gallery = gallery_query()

    assert library.sql == (
        f"{ROWS} WHERE c.tenantId = @tenant AND c.docType = 'job' AND c.status = @succeeded AND {VISIBLE} "
        "AND c.presetId = @presetId AND (CONTAINS(LOWER(c.spec.prompt), @search) "
        "OR (IS_STRING(c.presetName) AND CONTAINS(LOWER(c.presetName), @search))) ORDER BY c.createdAt DESC"
    )
    assert {"name": "@search", "value": "boat"} in library.parameters
    assert library.count_sql.startswith("SELECT VALUE COUNT(1) FROM c JOIN o IN c.outputs WHERE ")
    assert gallery.sql == (
        f"{ROWS} WHERE c.isPublic = true AND c.docType = 'job' AND c.status = @succeeded AND {VISIBLE} "
        "ORDER BY c.createdAt DESC"
    )
    assert gallery.partition_key is None
