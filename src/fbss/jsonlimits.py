"""JSON from outside, decoded with bounds: 3,000 nested arrays or a 5,000-digit number must be a clear error, not a
RecursionError deep inside a validator or a renderer."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # FHIR resources nest about a dozen levels; cases five


class JsonLimitError(ValueError):
    """JSON nested deeper than MAX_DEPTH (or too deep for the decoder), or a number too long to convert."""


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
    """`json.loads`, refusing data nested deeper than `limit` (JsonLimitError, a ValueError)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonLimitError(f"nested deeper than {limit} levels") from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer of more than 4,300 digits
        raise JsonLimitError("holds a number too long to read") from None
    if too_deep(value, limit):
        raise JsonLimitError(f"nested deeper than {limit} levels")
    return value
