"""An in-memory Cosmos DB container with the semantics the stores rely on.

Point operations behave as the service does: every write gives the document a new `_etag`, a replace with
`match_condition=IfNotModified` and a stale etag fails with 412, `create_item` of an existing id with 409,
a read or delete of a missing id with 404. Queries take the small SQL subset the repositories use
(`SELECT * FROM c WHERE ...` with AND / OR / NOT, comparisons, `IN (...)`, `IS_DEFINED`, parameters);
anything else raises NotImplementedError, so a test never passes on a query the fake misread.

`before_write` (called before every write, until a test clears it) lets a test interleave a concurrent
writer exactly between a store's read and its write.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)


class FakeContainer:
    def __init__(self, *, partition_key: str = "tenantId") -> None:
        self._partition_key = partition_key
        self._items: dict[tuple[str, str], dict[str, Any]] = {}
        self.before_write: Callable[[str, dict[str, Any]], None] | None = None
        self.writes = 0
        self.reads = 0

    # --- what tests use to look inside or change documents behind the store's back ------------------
    def documents(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(item) for item in self._items.values()]

    def poke(self, partition: str, item_id: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Change a stored document as another process would (it gets a new etag)."""
        item = self._items[(partition, item_id)]
        change(item)
        item["_etag"] = uuid.uuid4().hex

    # --- the SDK surface ----------------------------------------------------------------------------
    async def read_item(self, item: str, partition_key: str) -> dict[str, Any]:
        self.reads += 1
        stored = self._items.get((partition_key, item))
        if stored is None:
            raise CosmosResourceNotFoundError(status_code=404, message=f"{item} not found")
        return copy.deepcopy(stored)

    async def create_item(self, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key(body)
        self._before_write(key[1], body)
        if key in self._items:
            raise CosmosResourceExistsError(status_code=409, message=f"{key[1]} exists")
        return self._store(key, body)

    async def upsert_item(self, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key(body)
        self._before_write(key[1], body)
        return self._store(key, body)

    async def replace_item(
        self,
        item: str,
        body: dict[str, Any],
        *,
        etag: str | None = None,
        match_condition: MatchConditions | None = None,
    ) -> dict[str, Any]:
        key = (str(body[self._partition_key]), item)
        self._before_write(item, body)
        stored = self._items.get(key)
        if stored is None:
            raise CosmosResourceNotFoundError(status_code=404, message=f"{item} not found")
        if match_condition == MatchConditions.IfNotModified and stored["_etag"] != etag:
            raise CosmosAccessConditionFailedError(status_code=412, message="etag mismatch")
        return self._store(key, body)

    async def delete_item(
        self,
        item: str,
        partition_key: str,
        *,
        etag: str | None = None,
        match_condition: MatchConditions | None = None,
    ) -> None:
        stored = self._items.get((partition_key, item))
        if stored is None:
            raise CosmosResourceNotFoundError(status_code=404, message=f"{item} not found")
        if match_condition == MatchConditions.IfNotModified and stored["_etag"] != etag:
            raise CosmosAccessConditionFailedError(status_code=412, message="etag mismatch")
        self.writes += 1
        del self._items[(partition_key, item)]

    def query_items(
        self,
        query: str,
        *,
        parameters: list[dict[str, Any]] | None = None,
        partition_key: str | None = None,
        **_: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        predicate = compile_where(query, {p["name"]: p["value"] for p in parameters or []})
        matches = [
            copy.deepcopy(item)
            for (partition, _id), item in self._items.items()
            if (partition_key is None or partition == partition_key) and predicate(item)
        ]

        async def iterate() -> AsyncIterator[dict[str, Any]]:
            for item in matches:
                yield item

        return iterate()

    # --- internals ----------------------------------------------------------------------------------
    def _key(self, body: dict[str, Any]) -> tuple[str, str]:
        return str(body[self._partition_key]), str(body["id"])

    def _before_write(self, item_id: str, body: dict[str, Any]) -> None:
        if self.before_write is not None:
            self.before_write(item_id, body)

    def _store(self, key: tuple[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self.writes += 1
        stored = {k: copy.deepcopy(v) for k, v in body.items() if not k.startswith("_")}
        stored["_etag"] = uuid.uuid4().hex
        self._items[key] = stored
        return copy.deepcopy(stored)


# --- the WHERE subset ---------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^']*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<param>@\w+)|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w.]*))"
)
_MISSING = object()


def compile_where(query: str, parameters: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    match = re.fullmatch(
        r"\s*SELECT \* FROM c(?: WHERE (?P<where>.+?))?\s*", query, re.IGNORECASE | re.DOTALL
    )
    if match is None:
        raise NotImplementedError(f"the fake container does not understand: {query}")
    if match.group("where") is None:
        return lambda item: True
    tokens = _tokenize(match.group("where"))
    parser = _Parser(tokens, parameters)
    expression = parser.expression()
    if parser.position != len(tokens):
        raise NotImplementedError(f"unparsed rest of query: {tokens[parser.position :]}")
    return lambda item: bool(expression(item))


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise NotImplementedError(f"cannot tokenize query near: {text[position:]}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


Evaluate = Callable[[dict[str, Any]], Any]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], parameters: dict[str, Any]) -> None:
        self.tokens = tokens
        self.position = 0
        self.parameters = parameters

    def expression(self) -> Evaluate:
        left = self.conjunction()
        while self._keyword("OR"):
            left = _either(left, self.conjunction())
        return left

    def conjunction(self) -> Evaluate:
        left = self.negation()
        while self._keyword("AND"):
            left = _both(left, self.negation())
        return left

    def negation(self) -> Evaluate:
        if self._keyword("NOT"):
            inner = self.negation()
            return lambda item: not inner(item)
        return self.comparison()

    def comparison(self) -> Evaluate:
        left = self.operand()
        if self._keyword("IN"):
            self._expect("punct", "(")
            values = [self.operand()]
            while self._accept("punct", ","):
                values.append(self.operand())
            self._expect("punct", ")")
            return lambda item: left(item) in [value(item) for value in values]
        if self.position < len(self.tokens) and self.tokens[self.position][0] == "op":
            op = self.tokens[self.position][1]
            self.position += 1
            right = self.operand()
            return lambda item: _compare(op, left(item), right(item))
        return left

    def operand(self) -> Evaluate:
        kind, value = self.tokens[self.position]
        self.position += 1
        if kind == "punct" and value == "(":
            inner = self.expression()
            self._expect("punct", ")")
            return inner
        if kind == "string":
            text = value[1:-1]
            return lambda item: text
        if kind == "number":
            number = float(value) if "." in value else int(value)
            return lambda item: number
        if kind == "param":
            parameter = self.parameters[value]
            return lambda item: parameter
        if kind == "word" and value.lower() in ("true", "false"):
            truth = value.lower() == "true"
            return lambda item: truth
        if kind == "word" and value.upper() == "IS_DEFINED":
            self._expect("punct", "(")
            path = self.operand()
            self._expect("punct", ")")
            return lambda item: path(item) is not _MISSING
        if kind == "word" and value.startswith("c."):
            keys = value.split(".")[1:]
            return lambda item: _lookup(item, keys)
        raise NotImplementedError(f"unsupported query token {value!r}")

    def _keyword(self, word: str) -> bool:
        return self._accept("word", word, case_insensitive=True)

    def _accept(self, kind: str, value: str, *, case_insensitive: bool = False) -> bool:
        if self.position >= len(self.tokens):
            return False
        token_kind, token_value = self.tokens[self.position]
        same = token_value.upper() == value.upper() if case_insensitive else token_value == value
        if token_kind == kind and same:
            self.position += 1
            return True
        return False

    def _expect(self, kind: str, value: str) -> None:
        if not self._accept(kind, value):
            raise NotImplementedError(f"expected {value!r} at {self.tokens[self.position :]}")


def _either(first: Evaluate, second: Evaluate) -> Evaluate:
    return lambda item: first(item) or second(item)


def _both(first: Evaluate, second: Evaluate) -> Evaluate:
    return lambda item: first(item) and second(item)


def _lookup(item: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(item, dict) or key not in item:
            return _MISSING
        item = item[key]
    return item


def _compare(op: str, left: Any, right: Any) -> bool:
    # Cosmos DB: comparing with an undefined value, or values of different types, is never true.
    if left is _MISSING or right is _MISSING:
        return False
    if op in ("=", "!=", "<>"):
        equal = type(left) is type(right) and left == right
        return equal if op == "=" else not equal
    if type(left) is not type(right) and not (
        isinstance(left, int | float) and isinstance(right, int | float)
    ):
        return False
    return bool({"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op])
