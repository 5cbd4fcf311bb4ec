"""Command-line values that need more than typer's own checks, with errors that name the option."""

from __future__ import annotations

import datetime as dt

from fbss.errors import FbssError


def optional_date(text: str | None, option: str) -> dt.date | None:
    """`YYYY-MM-DD` from an option such as `--as-of`, or None when it was not given."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FbssError(f"{option}: expected a date as YYYY-MM-DD, got '{text}'") from None
