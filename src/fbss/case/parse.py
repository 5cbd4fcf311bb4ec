"""Turn JSON text or data into a validated Case, with one specific message per problem."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from fbss.case.model import Case
from fbss.errors import CaseError

MAX_CASE_BYTES = 2_000_000
MAX_DEPTH = 32  # a case nests five levels deep; deeper data is refused before validation
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

Problem = tuple[str, str]  # (field path, what is wrong)


def data_problems(data: object) -> list[Problem]:
    """What validation cannot be trusted with: text that is not valid Unicode (an unpaired surrogate, from text
    decoded with the wrong encoding), or data nested deeper than any case. Checked without recursion."""
    problems: list[Problem] = []
    stack: list[tuple[object, tuple[str, ...]]] = [(data, ())]
    while stack and len(problems) < 3:
        node, path = stack.pop()
        where = ".".join(path) or "(case)"
        if len(path) > MAX_DEPTH:
            return [(where, f"nested more than {MAX_DEPTH} levels deep; a case is a few levels")]
        if isinstance(node, str):
            if not _valid_unicode(node):
                problems.append(
                    (
                        where,
                        "holds an unpaired surrogate character; the text was probably decoded "
                        "with the wrong encoding: save it as UTF-8",
                    )
                )
        elif isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and not _valid_unicode(key):
                    problems.append((where, "a field name holds an unpaired surrogate character"))
                    continue
                stack.append((value, (*path, str(key))))
        elif isinstance(node, list | tuple):
            stack.extend((value, (*path, str(index))) for index, value in enumerate(node))
    return problems


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def date_problems(case: Case) -> list[Problem]:
    """Dates outside 1900-2100: 0001-01-01 or 9999-12-31 are typing slips, not dates of care."""
    problems: list[Problem] = []
    stack: list[tuple[object, tuple[str, ...]]] = [(case, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dt.date) and not EARLIEST_DATE <= _day(node) <= LATEST_DATE:
            problems.append((".".join(path), f"a date from {EARLIEST_DATE} to {LATEST_DATE}, not {node.isoformat()}"))
        elif isinstance(node, BaseModel):
            stack.extend((getattr(node, name), (*path, name)) for name in type(node).model_fields)
        elif isinstance(node, tuple):
            stack.extend((value, (*path, str(index))) for index, value in enumerate(node))
    return sorted(problems)


def _day(value: dt.date) -> dt.date:
    """The calendar day of a date or of a moment (who recorded the red-flag screen, and when)."""
    return value.date() if isinstance(value, dt.datetime) else value


def _raise(origin: str, problems: list[Problem]) -> None:
    if problems:
        raise CaseError(f"{origin}: " + "; ".join(f"{path}: {message}" for path, message in problems[:3]))


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
            _raise(origin, data_problems(data))
            case = Case.model_validate(data)
        else:
            if len(data) > MAX_CASE_BYTES:
                raise CaseError(f"{origin}: larger than {MAX_CASE_BYTES // 1_000_000} MB; a case is a few kilobytes")
            case = Case.model_validate_json(data)
        _raise(origin, date_problems(case))
        return case
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
