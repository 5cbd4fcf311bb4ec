"""The local engine's index of a bulk export: where each patient's lines are, so workers read them from the files.

Stage 1 reads the export in byte ranges (`ranges.py`), in parallel, and routes every line with `locate_line`. It copies
no text: for each line it records the bucket of its patient, the line's offset and length in its file, its number
within the range and where the patient id sits in it, in one array per range (`index/range-NNNNN.npy`, sorted by
bucket). Stage 2 reads one bucket's lines straight from the NDJSON files at those offsets. Line numbers are counted
per range and made absolute once every range is done (a range's first line number is the sum of the line counts of
the ranges before it in the same file).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fbss.cohort.patient import PatientLine
from fbss.cohort.ranges import ByteRange, line_text, lines_in_range
from fbss.cohort.routing import LineProblem, Organization, bucket_of, locate_line, route_line

ENTRY = np.dtype(
    [("bucket", "<u4"), ("offset", "<u8"), ("length", "<u4"), ("line", "<u4"), ("id_at", "<i4"), ("id_length", "<u4")]
)


@dataclass(frozen=True)
class RangeDone:
    """What indexing one range found besides its index file: kept by the parent until every range is done."""

    position: int  # the range's place in the list of ranges
    lines: int
    problems: list[tuple[int, str]]  # (line within the range from 0, reason)
    organizations: list[Organization]  # in line order
    bucket_patients: list[int]  # lines of a Patient file routed to each bucket


def index_path(work: Path, position: int) -> Path:
    return work / "index" / f"range-{position:05d}.npy"


def index_range(work: Path, files: Sequence[Path], buckets: int, position: int, byte_range: ByteRange) -> RangeDone:
    """Route every line that starts in one byte range; write the range's index atomically."""
    path = files[byte_range.file]
    counts_patients = path.name.startswith("Patient")
    entries: list[tuple[int, int, int, int, int, int]] = []
    problems: list[tuple[int, str]] = []
    organizations: list[Organization] = []
    bucket_patients = [0] * buckets
    lines = 0
    with path.open("rb") as handle:
        for number, (offset, raw) in enumerate(lines_in_range(handle, byte_range.start, byte_range.end)):
            lines += 1
            text = line_text(raw)
            routed, id_at = locate_line(text)
            if routed.patient is not None:
                bucket = bucket_of(routed.patient, buckets)
                entries.append((bucket, offset, len(raw), number, id_at, len(routed.patient)))
                bucket_patients[bucket] += counts_patients
            elif routed.organization is not None:
                organizations.append(routed.organization)
            else:
                problems.append((number, routed.problem or "unreadable line"))
    index = np.array(entries, dtype=ENTRY)
    index = index[np.argsort(index["bucket"], kind="stable")]
    target = index_path(work, position)
    temporary = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npy")
    np.save(temporary, index)
    os.replace(temporary, target)
    return RangeDone(position, lines, problems, organizations, bucket_patients)


def first_lines(ranges: Sequence[ByteRange], line_counts: Sequence[int]) -> list[int]:
    """The number of lines before each range in its file (ranges of a file are listed in order)."""
    before: dict[int, int] = {}
    firsts = []
    for byte_range, count in zip(ranges, line_counts, strict=True):
        firsts.append(before.get(byte_range.file, 0))
        before[byte_range.file] = firsts[-1] + count
    return firsts


def range_problems(done: RangeDone, byte_range: ByteRange, first_line: int, files: Sequence[Path]) -> list[LineProblem]:
    name = files[byte_range.file].name
    return [LineProblem(name, first_line + number + 1, reason) for number, reason in done.problems]


def read_bucket(
    work: Path, bucket: int, ranges: Sequence[ByteRange], first: Sequence[int], files: Sequence[Path]
) -> dict[str, list[PatientLine]]:
    """One bucket's lines, grouped by patient, read from the export files at the offsets the index gives.

    Each line is read with `pread` rather than through a memory map: mapped pages would count in the worker's
    resident memory until unmapped, though they are only the page cache.
    """
    grouped: dict[str, list[PatientLine]] = {}
    opened: dict[int, int] = {}
    try:
        for position, byte_range in enumerate(ranges):
            index = np.load(index_path(work, position), mmap_mode="r")
            low, high = np.searchsorted(index["bucket"], [bucket, bucket + 1])
            if low == high:
                continue
            if byte_range.file not in opened:
                opened[byte_range.file] = os.open(files[byte_range.file], os.O_RDONLY)
            descriptor, name = opened[byte_range.file], files[byte_range.file].name
            for _bucket, offset, length, number, id_at, id_length in index[low:high].tolist():
                text = line_text(os.pread(descriptor, length, offset))
                patient = text[id_at : id_at + id_length] if id_at >= 0 else route_line(text).patient
                assert patient is not None, "an indexed line routes to a patient"
                grouped.setdefault(patient, []).append(PatientLine(name, first[position] + number + 1, text))
    finally:
        for descriptor in opened.values():
            os.close(descriptor)
    return grouped
