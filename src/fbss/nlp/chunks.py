"""Long reports are read in pieces of bounded size, so that reading time grows linearly with length.

medspaCy's ConText compares every modifier of a document with every finding in it, and its regular-expression matcher
looks every match up token by token: both grow with the square of a document's size (100,000 characters of run-on
negations took minutes). A report is cut, where needed, at a blank line (else after a full stop, at a line break, at
a space) into pieces of at most CHUNK_CHARS characters; each piece is read alone, with the section heading in force
at its start put back in front of it, so FINDINGS / HISTORY sections carry over the cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHUNK_CHARS = 2_000  # report passages are a few hundred characters; a whole MRI report one or two pieces
_BREAKS = (re.compile(r"\n[ \t]*\n"), re.compile(r"[.;:!?]\s"), re.compile(r"\n"), re.compile(r"\s"))


@dataclass(frozen=True, slots=True)
class Chunk:
    start: int
    end: int


def chunks(text: str, size: int = CHUNK_CHARS) -> list[Chunk]:
    """Consecutive pieces covering the text, each at most `size` characters, cut at the best break in the
    second half of each window."""
    pieces: list[Chunk] = []
    start = 0
    while len(text) - start > size:
        window_end = start + size
        cut = window_end
        for pattern in _BREAKS:
            found = [m.end() for m in pattern.finditer(text, start + size // 2, window_end)]
            if found:
                cut = found[-1]
                break
        pieces.append(Chunk(start, cut))
        start = cut
    pieces.append(Chunk(start, len(text)))
    return pieces
