"""Example requests and answers of every operation, for the OpenAPI document (placeholder)."""

from __future__ import annotations

from shared.openapi import OperationExamples

EXAMPLES: dict[str, OperationExamples] = {}
