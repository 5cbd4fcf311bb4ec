"""Where a finding's level lies relative to the operated levels: the same segment, the one next to it, or further."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from fbss.case.vocabulary import PELVIS, level_index


class LevelRelation(StrEnum):
    """A segment compared with the operated segments."""

    same = "same"  # overlaps an operated segment
    adjacent = "adjacent"  # the segment just above or below an operated one (shares its end vertebra)
    remote = "remote"  # further away
    unknown = "unknown"  # the finding's level or the operated levels are not known


def span(segment: str) -> tuple[int, int]:
    """(upper, lower) level indexes of a segment such as 'L4-S1'."""
    upper, lower = segment.split("-")
    return level_index(upper), level_index(lower)


def level_relation(segment: str | None, operated: Iterable[str]) -> LevelRelation:
    """How `segment` (e.g. 'L3-L4') lies relative to the operated segments (e.g. ['L4-S1'])."""
    return relation_to_spans(segment, [span(s) for s in operated])


_SAME, _ADJACENT, _REMOTE, _UNKNOWN = LevelRelation  # members looked up once (hot path)


def relation_to_spans(segment: str | None, spans: list[tuple[int, int]]) -> LevelRelation:
    """`level_relation` with the operated segments already turned into (upper, lower) level indexes; `segment` may
    also be one vertebra ('S1') or the pelvis (whose relation is unknown)."""
    if segment is None or not spans or segment == PELVIS:
        return _UNKNOWN
    if "-" not in segment:  # one vertebra (a screw at S1): within an operated segment, or next to one
        vertebra = level_index(segment)
        if any(upper <= vertebra <= lower for upper, lower in spans):
            return _SAME
        return _ADJACENT if any(vertebra in (upper - 1, lower + 1) for upper, lower in spans) else _REMOTE
    top, bottom = span(segment)
    touching = False
    for upper, lower in spans:
        if top < lower and bottom > upper:
            return _SAME
        touching = touching or bottom == upper or top == lower
    return _ADJACENT if touching else _REMOTE
