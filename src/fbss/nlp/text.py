"""Check report text before it is read: size limit, encoding, binary content."""

from __future__ import annotations

import os

from fbss.nlp.errors import ReportTextError

DEFAULT_MAX_CHARS = 100_000
"""Largest report read, in characters (about 30 pages); set FBSS_NLP_MAX_CHARS to change it."""

_CONTROL_ALLOWED = frozenset("\n\r\t\f\v")


def max_chars() -> int:
    """The size limit in characters: FBSS_NLP_MAX_CHARS if set (a positive integer), else 100,000."""
    raw = os.environ.get("FBSS_NLP_MAX_CHARS")
    if raw is None or not raw.strip():
        return DEFAULT_MAX_CHARS
    try:
        value = int(raw)
    except ValueError:
        raise ReportTextError(f"FBSS_NLP_MAX_CHARS must be a positive integer, not {raw!r}") from None
    if value < 1:
        raise ReportTextError(f"FBSS_NLP_MAX_CHARS must be a positive integer, not {raw!r}")
    return value


def decode_report(data: bytes) -> str:
    """Decode report bytes as UTF-8 (a byte-order mark is allowed); raise ReportTextError if not text."""
    limit = max_chars()
    if len(data) > 4 * limit:  # no UTF-8 text of `limit` characters can be longer than 4 bytes per character
        raise ReportTextError(_too_long(len(data), limit, unit="bytes"))
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ReportTextError(
            f"the report contains NUL bytes (first at byte {nul}): it looks like a binary file "
            "(PDF, Word, image), not plain text; export the report as a .txt file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportTextError(
            f"the report is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start} is invalid);"
            " "
            "re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8 report.txt`"
        ) from None
    return check_text(text)


def check_text(text: object) -> str:
    """Return the text unchanged if it can be read; raise ReportTextError naming the problem otherwise."""
    if not isinstance(text, str):
        raise ReportTextError(f"report text must be a str, not {type(text).__name__}; decode bytes with decode_report")
    limit = max_chars()
    if len(text) > limit:
        raise ReportTextError(_too_long(len(text), limit, unit="characters"))
    for position, char in enumerate(text):
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            raise ReportTextError(
                f"the report contains an unpaired surrogate (U+{code:04X}) at position {position}; it was "
                "probably "
                "decoded with the wrong encoding; re-save it as UTF-8"
            )
        if char == "\x00":
            raise ReportTextError(
                f"the report contains a NUL character at position {position}: it looks like binary data, not text"
            )
    controls = sum(1 for char in text if ord(char) < 32 and char not in _CONTROL_ALLOWED)
    if text and controls > 0.1 * len(text):
        raise ReportTextError(
            f"{controls} of the report's {len(text)} characters are control characters: it looks like "
            "binary data, "
            "not report text"
        )
    return text


def _too_long(size: int, limit: int, *, unit: str) -> str:
    return (
        f"the report is {size:,} {unit}, more than the {limit:,}-character limit; split it into single "
        "reports "
        "or raise FBSS_NLP_MAX_CHARS"
    )
