"""Byte ranges: every line read exactly once whatever the boundaries, and a ranged run equal to a one-process run."""

from __future__ import annotations

import io
from pathlib import Path

from fbss.cohort.local import RunSummary, run_local
from fbss.cohort.ranges import ByteRange, line_text, lines_in_range, split_ranges
from tests.cohort.conftest import AS_OF, read_rows

# CRLF, an empty line, bytes that are not UTF-8, a multi-byte character, and a last line without its newline
EXPORT = b'{"a":1}\r\n\n{"b":"\xc3\xa9t\xc3\xa9"}\n\xff\xfe broken\n{"c":3}\nx\n{"last":true}'
LINES = EXPORT.split(b"\n")


def _read(ranges: list[tuple[int, int]]) -> list[tuple[int, bytes]]:
    handle = io.BytesIO(EXPORT)
    return [line for start, end in ranges for line in lines_in_range(handle, start, end)]


def test_a_line_cut_by_a_range_boundary_is_read_once_by_the_range_it_starts_in() -> None:
    expected = []
    offset = 0
    for line in LINES:
        expected.append((offset, line + b"\n" if offset + len(line) < len(EXPORT) else line))
        offset += len(line) + 1
    size = len(EXPORT)
    for first in range(size + 1):  # every pair of boundaries: three ranges, two of them possibly empty
        for second in range(first, size + 1):
            assert _read([(0, first), (first, second), (second, size)]) == expected, (first, second)


def test_lines_read_from_ranges_are_the_lines_of_the_file() -> None:
    read = [line_text(raw) for _offset, raw in _read([(0, 10), (10, 31), (31, len(EXPORT))])]
    assert read == EXPORT.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    assert read[2] == '{"b":"été"}' and read[3].startswith("\ufffd")


def test_files_are_cut_into_near_equal_ranges_that_cover_them() -> None:
    assert split_ranges([10, 0, 25], 10) == [
        ByteRange(0, 0, 10),
        ByteRange(1, 0, 0),
        ByteRange(2, 0, 8),
        ByteRange(2, 8, 16),
        ByteRange(2, 16, 25),
    ]


def test_a_run_over_many_small_ranges_equals_a_one_process_run(
    dirty_export: Path, local_result: RunSummary, tmp_path: Path
) -> None:
    single = run_local(dirty_export, tmp_path / "single.parquet", workers=1, as_of=AS_OF, range_bytes=1 << 40)
    ranged = run_local(dirty_export, tmp_path / "ranged.parquet", workers=2, as_of=AS_OF, range_bytes=20_000)
    assert read_rows(ranged.out) == read_rows(single.out) == read_rows(local_result.out)
    assert ranged.errors_file.read_text() == single.errors_file.read_text() == local_result.errors_file.read_text()
    assert ranged.patients == single.patients > 0
