"""Numbers typed into forms, read strictly: ASCII digits only (not '²', '٣' or '1_000'), a bounded length (not
5,000 digits), no 'nan' or 'inf'. Python's int() and float() accept all of those."""

from __future__ import annotations

import re

from fbss.errors import FbssError

_WHOLE = re.compile(r"[+-]?[0-9]{1,12}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,12}(?:[.,][0-9]{0,9})?|[.,][0-9]{1,9})")


def whole(text: str) -> int | None:
    """A whole number, or None when the text is not one."""
    text = text.strip()
    return int(text) if _WHOLE.fullmatch(text) else None


def decimal(text: str) -> float | None:
    """A decimal number (a comma may mark the decimals), or None when the text is not one."""
    text = text.strip()
    return float(text.replace(",", ".")) if _DECIMAL.fullmatch(text) else None


def whole_in(text: str, field: str, minimum: int, maximum: int) -> int:
    """A whole number within bounds, or an error naming the field and the bounds."""
    value = whole(text)
    if value is None or not minimum <= value <= maximum:
        raise FbssError(f"{field}: a whole number from {minimum} to {maximum}, not {text[:20]!r}")
    return value
