"""Byte ranges of NDJSON files: each line belongs to the range its first byte falls in, so ranges read in parallel.

A range `[start, end)` reads the lines that start inside it: it skips the rest of a line begun before `start` and
reads on past `end` to finish its own last line. A line cut by a boundary is therefore read exactly once, by the
range it starts in, and the ranges of a file together read every line of it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import BinaryIO, NamedTuple


class ByteRange(NamedTuple):
    file: int  # the file's position in the export's file list
    start: int
    end: int


def split_ranges(sizes: Sequence[int], range_bytes: int) -> list[ByteRange]:
    """Each file cut into near-equal ranges of at most `range_bytes` (one range for a small or empty file)."""
    ranges: list[ByteRange] = []
    for file, size in enumerate(sizes):
        pieces = max(1, math.ceil(size / range_bytes))
        bounds = [size * k // pieces for k in range(pieces + 1)]
        ranges += [ByteRange(file, start, end) for start, end in itertools.pairwise(bounds)]
    return ranges


def lines_in_range(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, raw line with its newline) of every line that starts in `[start, end)` of an open binary file."""
    if start > 0:
        handle.seek(start - 1)
        handle.readline()  # the end of a line that started before this range (just its newline if it ended there)
    else:
        handle.seek(0)
    offset = handle.tell()
    while offset < end:
        raw = handle.readline()
        if not raw:
            return
        yield offset, raw
        offset += len(raw)


def line_text(raw: bytes) -> str:
    """A raw line as text without its line ending; bytes that are not UTF-8 are replaced (U+FFFD)."""
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")
