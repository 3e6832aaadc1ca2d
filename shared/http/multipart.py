"""`multipart/form-data` submits (seed 002): the request's fields as form fields, `variables` as a JSON
string, and files in the form fields of the preset's file requirements."""

from __future__ import annotations

import json

import azure.functions as func
from pydantic import BaseModel

from shared.errors import invalid_field
from shared.http.handler import validate_body
from shared.models.jobs import GenerationRequest
from shared.presets.uploads import Upload, make_upload

# Form fields that carry JSON rather than a plain string.
_JSON_FIELDS = ("variables",)


def is_multipart(req: func.HttpRequest) -> bool:
    return req.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"


def parse_generation_form(req: func.HttpRequest) -> tuple[GenerationRequest, list[Upload]]:
    return parse_form(req, GenerationRequest)


def parse_form[ModelT: BaseModel](
    req: func.HttpRequest, model: type[ModelT], json_fields: tuple[str, ...] = _JSON_FIELDS
) -> tuple[ModelT, list[Upload]]:
    """The form's fields as `model` (the `json_fields` decoded from JSON strings) and its files."""
    fields: dict[str, object] = {}
    for name, value in req.form.items():
        if value == "":
            continue  # an empty form field means "not given"
        if name in json_fields:
            try:
                fields[name] = json.loads(value)
            except ValueError as exc:
                raise invalid_field(name, "not valid JSON") from exc
        else:
            fields[name] = value
    request = validate_body(fields, model)
    uploads = [
        make_upload(name, storage.filename or name, storage.read())
        for name, storage in req.files.items(multi=True)
    ]
    return request, uploads
