"""The error raised when a report's text cannot be read: the message says what is wrong and how to fix it."""

from __future__ import annotations

from fbss.errors import FbssError


class ReportTextError(FbssError):
    """A report's text is unusable (not UTF-8, binary, or larger than the size limit)."""
