"""Clauses and questions run together into one sentence, as every explanation the engine writes joins them."""

from __future__ import annotations

from collections.abc import Iterable


def joined(texts: Iterable[str]) -> str:
    """Questions and clauses run together: 'Any fever? Any weight loss?; …' never shows '?;'."""
    out = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if out:
            out += " " if out[-1] in "?.!" else "; "
        out += text
    return out
