"""Turn JSON text or data into a validated Case, with one specific message per problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fbss.case.model import Case
from fbss.errors import CaseError

MAX_CASE_BYTES = 2_000_000


def describe_validation_error(exc: ValidationError, limit: int = 3, whole: str = "(case)") -> str:
    """One line naming each bad field, what was expected and what was given; `whole` names an error of the
    entry as a whole (empty: the message stands alone)."""
    parts = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(p) for p in error["loc"]) or whole
        message = error["msg"].removeprefix("Value error, ")
        given = error.get("input")
        if error["type"] in {"missing", "extra_forbidden"}:
            shown = ""
        elif isinstance(given, (str, int, float, bool)) or given is None:
            shown = f" (got {json.dumps(given)})"
        else:
            shown = ""
        if error["type"] == "extra_forbidden":
            message = "is not a known field"
        parts.append(f"{location}: {message}{shown}" if location else f"{message}{shown}")
    more = len(exc.errors()) - limit
    suffix = f"; and {more} more problem{'s' if more > 1 else ''}" if more > 0 else ""
    return "; ".join(parts) + suffix


def parse_case(data: str | bytes | dict[str, Any], origin: str = "case") -> Case:
    """Validate a case given as JSON text or already-decoded data; raise CaseError naming the field."""
    try:
        if isinstance(data, dict):
            return Case.model_validate(data)
        if len(data) > MAX_CASE_BYTES:
            raise CaseError(f"{origin}: larger than {MAX_CASE_BYTES // 1_000_000} MB; a case is a few kilobytes")
        return Case.model_validate_json(data)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            detail = exc.errors()[0]["msg"]
            raise CaseError(f"{origin}: not valid JSON ({detail})") from None
        if any(e["type"] == "model_type" and not e["loc"] for e in exc.errors()):
            raise CaseError(f"{origin}: expected a JSON object describing one case") from None
        raise CaseError(f"{origin}: {describe_validation_error(exc)}") from None


def read_case(path: Path) -> Case:
    """Read and validate one case file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaseError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CaseError(f"{path}: not UTF-8 text; save the case as UTF-8 JSON") from None
    return parse_case(raw, origin=str(path))
