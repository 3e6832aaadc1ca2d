"""An in-memory Cosmos DB container with the semantics the stores rely on.

Point operations behave as the service does: every write gives the document a new `_etag`, a replace with
`match_condition=IfNotModified` and a stale etag fails with 412, `create_item` of an existing id with 409,
a read or delete of a missing id with 404. `patch_item` applies `set`, `add`, `replace`, `remove` and
`incr` operations atomically, refused with 412 when its `filter_predicate` does not hold;
`execute_item_batch` applies its operations all or none (CosmosBatchOperationError naming the failed
one). Queries and filter predicates take the small SQL subset the stores use (`SELECT * FROM c WHERE ...`
with AND / OR / NOT, comparisons, `+` and `-`, `IN (...)`, `IS_DEFINED`, parameters); anything else
raises NotImplementedError, so a test never passes on a query the fake misread.

`before_write` (called before every write, until a test clears it) lets a test interleave a concurrent
writer exactly between a store's read and its write. With `yields` set, every call gives the event loop a
turn first, as a call over the network does, so that concurrent tasks interleave at each call.
"""

from __future__ import annotations

import asyncio
import copy
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosBatchOperationError,
    CosmosHttpResponseError,
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
        self.yields = False
        self.calls: Counter[str] = Counter()  # SDK calls made, by method (a batch counts once)
        self._in_batch = False

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
        await self._turn("read_item")
        self.reads += 1
        stored = self._items.get((partition_key, item))
        if stored is None:
            raise CosmosResourceNotFoundError(status_code=404, message=f"{item} not found")
        return copy.deepcopy(stored)

    async def create_item(self, body: dict[str, Any]) -> dict[str, Any]:
        await self._turn("create_item")
        key = self._key(body)
        self._before_write(key[1], body)
        if key in self._items:
            raise CosmosResourceExistsError(status_code=409, message=f"{key[1]} exists")
        return self._store(key, body)

    async def upsert_item(self, body: dict[str, Any]) -> dict[str, Any]:
        await self._turn("upsert_item")
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
        await self._turn("replace_item")
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
        await self._turn("delete_item")
        stored = self._items.get((partition_key, item))
        if stored is None:
            raise CosmosResourceNotFoundError(status_code=404, message=f"{item} not found")
        if match_condition == MatchConditions.IfNotModified and stored["_etag"] != etag:
            raise CosmosAccessConditionFailedError(status_code=412, message="etag mismatch")
        self.writes += 1
        del self._items[(partition_key, item)]

    async def patch_item(
        self,
        item: str,
        partition_key: str,
        patch_operations: list[dict[str, Any]],
        *,
        filter_predicate: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        await self._turn("patch_item")
        key = (partition_key, item)
        stored = self._items.get(key)
        if stored is None:
            raise CosmosResourceNotFoundError(status_code=404, message=f"{item} not found")
        if filter_predicate is not None and not _predicate(filter_predicate)(stored):
            raise CosmosAccessConditionFailedError(status_code=412, message="filter predicate not met")
        patched = _apply_patch(stored, patch_operations)
        self._before_write(item, patched)
        return self._store(key, patched)

    async def execute_item_batch(
        self, batch_operations: list[tuple[Any, ...]], partition_key: str, **_: Any
    ) -> list[dict[str, Any]]:
        await self._turn("execute_item_batch")
        self._in_batch = True
        try:
            return await self._batch(batch_operations, partition_key)
        finally:
            self._in_batch = False

    async def _batch(
        self, batch_operations: list[tuple[Any, ...]], partition_key: str
    ) -> list[dict[str, Any]]:
        saved = copy.deepcopy(self._items)
        results: list[dict[str, Any]] = []
        for index, operation in enumerate(batch_operations):
            kind, args = operation[0], operation[1]
            options = dict(operation[2]) if len(operation) > 2 else {}
            try:
                if kind == "create":
                    body = await self.create_item(args[0])
                elif kind == "upsert":
                    body = await self.upsert_item(args[0])
                elif kind == "replace":
                    body = await self.replace_item(args[0], args[1])
                elif kind == "delete":
                    await self.delete_item(args[0], partition_key)
                    body = {}
                elif kind == "patch":
                    body = await self.patch_item(
                        args[0], partition_key, args[1], filter_predicate=options.get("filter_predicate")
                    )
                else:
                    raise NotImplementedError(f"batch operation {kind}")
            except CosmosHttpResponseError as error:
                self._items = saved
                statuses = [424] * len(batch_operations)
                statuses[index] = error.status_code or 400
                raise CosmosBatchOperationError(
                    error_index=index,
                    headers={},
                    status_code=error.status_code,
                    message=str(error),
                    operation_responses=[{"statusCode": status} for status in statuses],
                ) from error
            results.append({"statusCode": 200, "resourceBody": body})
        return results

    def query_items(
        self,
        query: str,
        *,
        parameters: list[dict[str, Any]] | None = None,
        partition_key: str | None = None,
        **_: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        self.calls["query_items"] += 1
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
    async def _turn(self, call: str) -> None:
        if self._in_batch:
            return  # a batch is one call, applied without a turn in between (all or nothing)
        self.calls[call] += 1
        if self.yields:
            await asyncio.sleep(0)

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


# --- patch operations ---------------------------------------------------------------------------------
def _apply_patch(stored: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    if len(operations) > 10:
        raise CosmosHttpResponseError(status_code=400, message="more than 10 patch operations")
    document = copy.deepcopy(stored)
    for operation in operations:
        *parents, name = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"][1:].split("/")]
        target: Any = document
        for part in parents:
            if not isinstance(target, dict) or part not in target:
                raise CosmosHttpResponseError(status_code=400, message=f"no parent for {operation['path']}")
            target = target[part]
        op = operation["op"]
        if op in ("set", "add"):
            target[name] = copy.deepcopy(operation["value"])
        elif op == "replace":
            if name not in target:
                raise CosmosHttpResponseError(status_code=400, message=f"{operation['path']} is absent")
            target[name] = copy.deepcopy(operation["value"])
        elif op == "remove":
            if name not in target:
                raise CosmosHttpResponseError(status_code=400, message=f"{operation['path']} is absent")
            del target[name]
        elif op == "incr":
            target[name] = target.get(name, 0) + operation["value"]
        else:
            raise NotImplementedError(f"patch operation {op}")
    return document


def _predicate(filter_predicate: str) -> Callable[[dict[str, Any]], bool]:
    match = re.fullmatch(r"\s*from c where (?P<where>.+)", filter_predicate, re.IGNORECASE | re.DOTALL)
    if match is None:
        raise NotImplementedError(f"the fake container does not understand: {filter_predicate}")
    return compile_where(f"SELECT * FROM c WHERE {match.group('where')}", {})


# --- the WHERE subset ---------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^']*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<param>@\w+)|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<arith>[+-])|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w.]*))"
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
        left = self.additive()
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
            right = self.additive()
            return lambda item: _compare(op, left(item), right(item))
        return left

    def additive(self) -> Evaluate:
        left = self.operand()
        while self.position < len(self.tokens) and self.tokens[self.position][0] == "arith":
            sign = self.tokens[self.position][1]
            self.position += 1
            left = _arithmetic_of(sign, left, self.operand())
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


def _arithmetic_of(sign: str, first: Evaluate, second: Evaluate) -> Evaluate:
    return lambda item: _arithmetic(sign, first(item), second(item))


def _lookup(item: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(item, dict) or key not in item:
            return _MISSING
        item = item[key]
    return item


def _arithmetic(sign: str, left: Any, right: Any) -> Any:
    # Cosmos DB: arithmetic on an undefined or non-number value is undefined.
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)):
        return _MISSING
    return left + right if sign == "+" else left - right


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
