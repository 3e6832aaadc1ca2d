"""The Bicep templates as data: parsed with pycep (the parser checkov uses) and resolved far enough to read
names, settings and properties. Identifiers resolve to parameter defaults (or the values main.bicep passes
to a module) and variables; `${...}` interpolations are filled in; anything else (outputs of other modules,
functions) stays as pycep's description of it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
_INTERPOLATION = re.compile(r"\$\{(\w+)\}")


@cache
def function_bindings() -> dict[str, dict[str, Any]]:
    """`function.json` of every function, as the host indexes the app (in a fresh interpreter:
    `FunctionApp.get_functions()` refuses a second call in one process)."""
    probe = (
        "import json, function_app; print(json.dumps({f.get_function_name():"
        " json.loads(f.get_function_json()) for f in function_app.app.get_functions()}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(output))


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def parse(path: Path) -> dict[str, Any]:
    return dict(BicepParser().parse(file_path=path))


def config(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's or module's body, under any `if` condition or `for` loop."""
    body = resource["config"]
    while isinstance(body, dict) and "config" in body and ("condition" in body or "loop_type" in body):
        body = body["config"]
    return dict(body)


@dataclass
class Template:
    path: Path
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> dict[str, Any]:
        return parse(self.path)

    def resolve(self, value: Any, _resolving: frozenset[str] = frozenset()) -> Any:
        if isinstance(value, str):
            # pycep gives identifiers and string literals alike as strings: a name being resolved
            # further up (`var serverless = mode == 'serverless'`) is a literal here.
            if value in _resolving:
                return value
            inner = _resolving | {value}
            if value in self.args:
                return self.args[value]
            parameters = self.data.get("parameters", {})
            if value in parameters and "default" in parameters[value]:
                return self.resolve(parameters[value]["default"], inner)
            variables = self.data.get("variables", {})
            if value in variables:
                return self.resolve(variables[value]["value"], inner)
            return _INTERPOLATION.sub(lambda m: str(self.resolve(m[1], inner)), value)
        if isinstance(value, list):
            return [self.resolve(item, _resolving) for item in value]
        if isinstance(value, dict):
            operator = value.get("operator")
            if (
                isinstance(operator, dict)
                and operator.get("type") == "minus"
                and "integer_value" in operator.get("operands", {})
            ):
                return -int(operator["operands"]["integer_value"])  # a negative literal, e.g. defaultTtl: -1
            return {key: self.resolve(item, _resolving) for key, item in value.items()}
        return value

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {
            name: resource
            for name, resource in self.data.get("resources", {}).items()
            if resource["type"] == type_ and not resource.get("existing")
        }

    def module(self, name: str) -> Template:
        """The module main.bicep calls `name`, with the parameter values main.bicep passes."""
        module = self.data["modules"][name]
        params = config(module).get("params", {})
        return Template(
            self.path.parent / module["detail"]["path"],
            {key: self.resolve(value) for key, value in params.items()},
        )


def main() -> Template:
    return Template(INFRA / "main.bicep")


def object_entries(expression: Any) -> dict[str, Any]:
    """Entries of every object literal in `union(...)` and `cond ? {...} : {...}` expressions (all
    branches: what a template may set)."""
    if isinstance(expression, dict):
        if "function" in expression and expression["function"].get("type") == "union":
            merged: dict[str, Any] = {}
            for argument in expression["function"]["parameters"].values():
                merged.update(object_entries(argument))
            return merged
        if "operator" in expression and expression["operator"].get("type") == "conditional":
            operands = expression["operator"]["operands"]
            return {**object_entries(operands["false_value"]), **object_entries(operands["true_value"])}
        if "function" in expression or "operator" in expression:
            return {}
        return dict(expression)
    return {}
