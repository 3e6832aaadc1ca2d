"""The Bicep templates as data: parsed with pycep (the parser checkov uses) and resolved far enough to read
names, settings and properties. Identifiers resolve to parameter values (given, the values main.bicep
passes to a module, or the defaults) and variables; `${...}` interpolations are filled in; conditions,
`!`, `==`, `!=`, `&&`, `||`, `empty()` and `union()` are evaluated when their operands are known;
anything else (outputs of other modules, other functions) stays as pycep's description of it.

`render` writes a copy of the templates for one choice of main.bicep's parameters (vnetEnabled on or off),
so that checkov, which reads every file on its own with its parameter defaults and evaluates no
condition, checks what that choice deploys."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
_INTERPOLATION = re.compile(r"\$\{(\w+)\}")
_UNKNOWN = object()  # an expression whose operands are not all known


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
            function = value.get("function")
            evaluated: Any = _UNKNOWN
            if isinstance(operator, dict):
                evaluated = self._operation(operator["type"], operator.get("operands", {}), _resolving)
            elif isinstance(function, dict):
                evaluated = self._call(function["type"], function.get("parameters", {}), _resolving)
            if evaluated is not _UNKNOWN:
                return evaluated
            return {key: self.resolve(item, _resolving) for key, item in value.items()}
        return value

    def _operation(self, kind: str, operands: dict[str, Any], resolving: frozenset[str]) -> Any:
        if kind == "minus" and "integer_value" in operands:
            return -int(operands["integer_value"])  # a negative literal, e.g. defaultTtl: -1
        if kind == "conditional":
            condition = self.resolve(operands["condition"], resolving)
            if isinstance(condition, bool):
                return self.resolve(operands["true_value" if condition else "false_value"], resolving)
        elif kind == "not":
            operand = self.resolve(operands["bool_value"], resolving)
            if isinstance(operand, bool):
                return not operand
        elif kind in ("and", "or"):
            left = self.resolve(operands["operand_1"], resolving)
            right = self.resolve(operands["operand_2"], resolving)
            if isinstance(left, bool) and isinstance(right, bool):
                return (left and right) if kind == "and" else (left or right)
        elif kind in ("equals", "not_equals"):
            left = self.resolve(operands["operand_1"], resolving)
            right = self.resolve(operands["operand_2"], resolving)
            if not isinstance(left, dict | list) and not isinstance(right, dict | list):
                return (left == right) if kind == "equals" else (left != right)
        return _UNKNOWN

    def _call(self, kind: str, parameters: dict[str, Any], resolving: frozenset[str]) -> Any:
        arguments = [self.resolve(argument, resolving) for argument in parameters.values()]
        if kind == "empty" and len(arguments) == 1:
            (argument,) = arguments
            if isinstance(argument, str | list) or _is_literal_object(argument):
                return len(argument) == 0
        if kind == "union" and all(_is_literal_object(argument) for argument in arguments):
            merged: dict[str, Any] = {}
            for argument in arguments:
                merged.update(argument)
            return merged
        return _UNKNOWN

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


def _is_literal_object(value: Any) -> bool:
    return isinstance(value, dict) and "function" not in value and "operator" not in value


def main(**parameters: Any) -> Template:
    """main.bicep, with `parameters` in place of those parameters' defaults (e.g. vnetEnabled=True)."""
    return Template(INFRA / "main.bicep", parameters)


def _bicep_literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${")
        return f"'{escaped}'"
    return None


def _with_defaults(text: str, values: dict[str, Any]) -> str:
    """`text` with each one-line `param NAME TYPE [= default]` given the default `values[NAME]`, when the
    value is a literal (outputs of other modules stay unknown)."""
    for name, value in values.items():
        literal = _bicep_literal(value)
        if literal is None:
            continue
        text = re.sub(
            rf"^param {re.escape(name)} (\w+)(?: = [^\n\[{{]*)?$",
            _param_with_default(name, literal),
            text,
            flags=re.M,
        )
    return text


def _param_with_default(name: str, literal: str) -> Callable[[re.Match[str]], str]:
    return lambda match: f"param {name} {match[1]} = {literal}"


def render(destination: Path, *, drop_skips_containing: str | None = None, **parameters: Any) -> Path:
    """A copy of infra/ at `destination` whose main.bicep defaults to `parameters` and whose modules
    default to the values main.bicep then passes them. With `drop_skips_containing`, the checkov skips
    whose reason contains it are left out (to show they are not needed in this state)."""
    shutil.copytree(INFRA, destination)
    template = main(**parameters)
    files = {destination / "main.bicep": dict(parameters)}
    for name, module in template.data["modules"].items():
        files[destination / Path(module["detail"]["path"])] = template.module(name).args
    for path, values in files.items():
        text = _with_defaults(path.read_text(), values)
        if drop_skips_containing is not None:
            text = "\n".join(
                line
                for line in text.splitlines()
                if not ("checkov:skip=" in line and drop_skips_containing in line)
            )
        path.write_text(text + "\n")
    return destination


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
