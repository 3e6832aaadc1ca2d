"""`python -m devtools.openapi` (`make openapi`): prints the app's OpenAPI document as `docs/openapi.json`
keeps it (a unit test compares the two)."""

from __future__ import annotations

import function_app
from shared.http.endpoint import declared_operations
from shared.openapi import render


def main() -> None:
    print(render(declared_operations(function_app.app)), end="")


if __name__ == "__main__":
    main()
