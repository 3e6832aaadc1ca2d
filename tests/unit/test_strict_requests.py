"""Every request body model is strict about JSON types, down to nested fields: a boolean is `true`/`false`,
a number a number, a string a string. The fields are found in each model's JSON schema, so a field added
later is fuzzed too; query strings and multipart forms keep their text conversion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import function_app
from shared.http.endpoint import declared_operations
from shared.http.handler import validate_body
from shared.models.jobs import GenerationRequest

# JSON values of the wrong type for each JSON schema type.
WRONG: dict[str, list[Any]] = {
    "boolean": ["yes", "true", "off", 1, 0, 1.5, [], {}],
    "integer": ["5", 5.5, True, [], {}],
    "number": ["5", True, [], {}],
    "string": [5, 1.5, True, [], {}],
    "array": ["x", 5, True, {}],
    "object": ["x", 5, True, []],
}
# Fields that accept other types on purpose, with the reason.
LENIENT = {
    # Seed 000 documents `{"error": "No images provided"}` for `images` missing, empty or not a list.
    ("ImageEditRequest", "images"),
}

REQUEST_MODELS = sorted(
    {op.request for op in declared_operations(function_app.app) if op.request is not None},
    key=lambda m: m.__name__,
)


def _types(schema: dict[str, Any], defs: dict[str, Any]) -> tuple[set[str], dict[str, Any] | None]:
    """The JSON types a property allows, and the object schema of a nested model (if one)."""
    if "$ref" in schema:
        return {"object"}, defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        types: set[str] = set()
        nested = None
        for option in schema["anyOf"]:
            option_types, option_nested = _types(option, defs)
            types |= option_types
            nested = nested or option_nested
        return types, nested
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return {"string" if all(isinstance(v, str) for v in values) else "any"}, None
    kind = schema.get("type")
    if kind is None:
        return {"any"}, None
    return {kind}, None


def _cases(
    model_name: str, schema: dict[str, Any], defs: dict[str, Any], path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """(location, wrong value) for every typed property of `schema`, nested models and list items included."""
    for name, prop in schema.get("properties", {}).items():
        location = (*path, name)
        types, nested = _types(prop, defs)
        if "any" in types or (model_name, name) in LENIENT:
            continue
        yield from ((location, value) for value in _wrong_values(types))
        if nested is not None:
            yield from _cases(nested.get("title", ""), nested, defs, location)
        items = prop.get("items") or next(
            (option["items"] for option in prop.get("anyOf", []) if "items" in option), None
        )
        if items is not None:
            item_types, item_nested = _types(items, defs)
            if "any" not in item_types:
                yield from (((*location, 0), value) for value in _wrong_values(item_types))
            if item_nested is not None:
                yield from _cases(item_nested.get("title", ""), item_nested, defs, (*location, 0))


def _wrong_values(types: set[str]) -> list[Any]:
    values = [value for values in WRONG.values() for value in values if not _fits(value, types)]
    unique: list[Any] = []
    for value in values:
        if not any(type(value) is type(seen) and value == seen for seen in unique):
            unique.append(value)
    return unique


def _fits(value: Any, types: set[str]) -> bool:
    checks = {
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    return any(checks[kind](value) for kind in types if kind in checks)


def _body(location: tuple[str | int, ...], value: Any) -> Any:
    body: Any = value
    for part in reversed(location):
        body = [body] if isinstance(part, int) else {part: body}
    return body


def _all_cases() -> list[tuple[type[BaseModel], tuple[str | int, ...], Any]]:
    cases = []
    for model in REQUEST_MODELS:
        schema = model.model_json_schema(by_alias=True)
        for location, value in _cases(model.__name__, schema, schema.get("$defs", {})):
            cases.append((model, location, value))
    return cases


CASES = _all_cases()


def test_the_fuzzer_covers_every_request_model_and_the_named_fields() -> None:
    covered = {(model.__name__, location[0]) for model, location, _ in CASES}

    assert {model.__name__ for model, _, _ in CASES} >= {
        "GenerationRequest",
        "PresetInput",
        "ApiKeyCreateRequest",
        "CreateGenerationRequest",
        "V0GenerationRequest",
        "ImageEditRequest",
    }
    for field in ("autoEnhance", "isPublic", "n", "prompt", "referenceImages", "enhancementOptions"):
        assert ("GenerationRequest", field) in covered
    assert ("V0GenerationRequest", "sampleCount") in covered
    assert ("CreateGenerationRequest", "autoEnhance") in covered


@pytest.mark.parametrize(
    ("model", "location", "value"),
    CASES,
    ids=[f"{m.__name__}.{'.'.join(map(str, loc))}={json.dumps(v)}" for m, loc, v in CASES],
)
def test_a_value_of_the_wrong_json_type_is_refused(
    model: type[BaseModel], location: tuple[str | int, ...], value: Any
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate_json(json.dumps(_body(location, value)))

    locations = [error["loc"][: len(location)] for error in refused.value.errors()]
    assert location in locations, refused.value.errors()


def test_json_booleans_and_numbers_still_pass() -> None:
    request = GenerationRequest.model_validate_json(
        '{"prompt": "a cat", "autoEnhance": true, "isPublic": false, "n": 2, "outputCompression": 80}'
    )

    assert (request.auto_enhance, request.is_public, request.n, request.output_compression) == (
        True,
        False,
        2,
        80,
    )


def test_form_fields_are_text_and_keep_their_conversion() -> None:
    request = validate_body(
        {"prompt": "a cat", "autoEnhance": "true", "isPublic": "false", "n": "2"}, GenerationRequest
    )

    assert (request.auto_enhance, request.is_public, request.n) == (True, False, 2)
