"""The one guard every store puts in front of an id, partition key or blob name before it reaches Azure.

Cosmos DB addresses a document by a URL path, `dbs/{db}/colls/{container}/docs/{id}`, and the SDK puts
the id into it as given: an id of `..` is normalised to the container's own path, so a read returns the
container and a delete removes it; `%2e%2e` is decoded into the same on the way; `/`, `?` and `#` change
the path or cut it short. Blob names are URL paths as well. So a key must be a plain name: printable
ASCII without whitespace, without `/ \\ ? # %`, not made of dots alone, at most 255 characters. Every id
the service mints fits (UUIDs, `preset_<hex>`, hex digests, tenant ids of `[A-Za-z0-9._-]`).

The routes check each id's own format first (`shared.ids`) and answer 404 or 400 themselves; this guard
is the backstop, so when it fires a route forgot its check: the handler logs that as a bug and answers
400 (`shared.http.handler`).
"""

from __future__ import annotations

MAX_KEY_LENGTH = 255
MAX_BLOB_NAME_LENGTH = 1024
_REFUSED = frozenset("/\\?#%")


class UnsafeStoreKeyError(ValueError):
    """A value that is not a plain document id, partition key or blob name segment."""


def plain_key(value: object, what: str = "id") -> str:
    """`value` when it is a plain name a store may address; UnsafeStoreKeyError (naming `what`) otherwise."""
    if not isinstance(value, str) or not value:
        raise UnsafeStoreKeyError(f"The {what} is empty or not a string.")
    if len(value) > MAX_KEY_LENGTH:
        raise UnsafeStoreKeyError(f"The {what} is longer than {MAX_KEY_LENGTH} characters.")
    if not all("!" <= char <= "~" and char not in _REFUSED for char in value):
        raise UnsafeStoreKeyError(f"The {what} {value!r} holds a character a plain id may not hold.")
    if value.strip(".") == "":
        raise UnsafeStoreKeyError(f"The {what} {value!r} is a dot segment.")
    return value


def plain_blob_name(value: str, what: str = "blob name") -> str:
    """A blob name whose every `/`-separated segment is a plain key (no empty, dot or escaped segment)."""
    if len(value) > MAX_BLOB_NAME_LENGTH:
        raise UnsafeStoreKeyError(f"The {what} is longer than {MAX_BLOB_NAME_LENGTH} characters.")
    for segment in value.split("/"):
        plain_key(segment, f"{what} segment")
    return value
