"""Route templates as the Functions host (ASP.NET routing) reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAMETER = re.compile(r"\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?(\?)?\}")
_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?i:true|false)",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
}


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    pattern: re.Pattern[str]
    precedence: tuple[int, ...]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch("/" + path.strip("/"))
        if found is None:
            return None
        return {name: value for name, value in found.groupdict().items() if value is not None}


def compile_route(template: str) -> RouteTemplate:
    """Literal segments match case-insensitively; `{name}`, `{name:int}`, `{name?}` and `{*rest}` bind."""
    segments = [s for s in template.strip("/").split("/") if s]
    regex = ""
    precedence: list[int] = []
    for segment in segments:
        parameter = _PARAMETER.fullmatch(segment)
        if parameter is None:
            regex += "/" + re.escape(segment)
            precedence.append(0)
            continue
        catch_all, name, constraint, optional = parameter.groups()
        if catch_all:
            regex += f"(?:/(?P<{name}>.*))?"
            precedence.append(3)
            continue
        body = _CONSTRAINTS.get(constraint or "", r"[^/]+")
        part = f"/(?P<{name}>{body})"
        regex += f"(?:{part})?" if optional else part
        precedence.append(1 if constraint else 2)
    return RouteTemplate(template, re.compile(f"{regex}/?", re.IGNORECASE), tuple(precedence))
