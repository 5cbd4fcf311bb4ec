"""JSON from outside, decoded with a bound on nesting: 3,000 nested arrays must be a clear error, not a
RecursionError deep inside a validator or a renderer."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # FHIR resources nest about a dozen levels; cases five


class JsonDepthError(ValueError):
    """JSON nested deeper than MAX_DEPTH (or too deep for the decoder)."""


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether decoded JSON nests deeper than `limit`; checked without recursion."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in node)
    return False


def loads(text: str | bytes | bytearray, limit: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing data nested deeper than `limit` (JsonDepthError, a ValueError)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonDepthError(f"nested deeper than {limit} levels") from None
    if too_deep(value, limit):
        raise JsonDepthError(f"nested deeper than {limit} levels")
    return value
