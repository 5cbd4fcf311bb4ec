"""Where a finding's level lies relative to the operated levels: the same segment, the one next to it, or further."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from fbss.case.vocabulary import level_index


class LevelRelation(StrEnum):
    """A segment compared with the operated segments."""

    same = "same"  # overlaps an operated segment
    adjacent = "adjacent"  # the segment just above or below an operated one (shares its end vertebra)
    remote = "remote"  # further away
    unknown = "unknown"  # the finding's level or the operated levels are not known


def _span(segment: str) -> tuple[int, int]:
    upper, lower = segment.split("-")
    return level_index(upper), level_index(lower)


def level_relation(segment: str | None, operated: Iterable[str]) -> LevelRelation:
    """How `segment` (e.g. 'L3-L4') lies relative to the operated segments (e.g. ['L4-S1'])."""
    spans = [_span(s) for s in operated]
    if segment is None or not spans:
        return LevelRelation.unknown
    top, bottom = _span(segment)
    if any(top < lower and bottom > upper for upper, lower in spans):
        return LevelRelation.same
    if any(bottom == upper or top == lower for upper, lower in spans):
        return LevelRelation.adjacent
    return LevelRelation.remote
