"""Every answer the integration tests receive is checked against the served OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import httpx
from jsonschema import Draft202012Validator

API_PREFIX = "/api"


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        routes = []
        for path, operations in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "/?$")
            routes.append((path.count("{"), pattern, operations))
        # A literal segment wins over a parameter, as in the Functions host's routing.
        self._routes = sorted(routes, key=lambda route: route[0])

    def operation(self, method: str, url_path: str) -> dict[str, Any] | None:
        if not url_path.startswith(API_PREFIX):
            return None
        path = url_path[len(API_PREFIX) :]
        for _, pattern, operations in self._routes:
            if pattern.match(path):
                return operations.get(method.lower())
        return None

    def check(self, response: httpx.Response) -> None:
        request = response.request
        operation = self.operation(request.method, request.url.path)
        if operation is None:
            return
        response.read()
        where = f"{request.method} {request.url.path} answered {response.status_code}"
        assert response.headers.get("x-request-id"), f"{where} without x-request-id"
        spec = operation["responses"].get(str(response.status_code))
        assert spec is not None, f"{where}, a status the OpenAPI document does not list"
        content = spec.get("content") or {}
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if not content:
            assert not response.content, f"{where} with a body the document does not describe"
            return
        assert media in content, f"{where} with {media!r}; the document says {list(content)}"
        schema = content[media]["schema"]
        if media.endswith("json"):
            validator = Draft202012Validator({**schema, "components": self.document["components"]})
            errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.path))
            assert not errors, f"{where} with a body that does not match the document: {errors[0].message}"
