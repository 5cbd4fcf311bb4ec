"""Spine levels and sides named in report text, and which of them belong to a finding mention."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fbss.case.vocabulary import SPINE_LEVELS, level_index
from fbss.nlp.model import Side

# "L4-5", "L4-L5", "L4/5", "L5-S1", "L4 through S1", "L4 on L5" (a slip), "T12-L1", or a single "L5" / "S1".
_LEVEL = re.compile(
    r"(?<![A-Za-z0-9])(?P<r1>[CTLS])\s?(?P<n1>\d{1,2})"
    r"(?:\s*(?:-|–|/|\bto\b|\bthrough\b|\bthru\b|\bon\b(?=\s*[CTLS]\s?\d))\s*(?P<r2>[CTLS])?\s?(?P<n2>\d{1,2}))?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# A bare T1/T2/... is usually an MRI sequence ("T2 hyperintense", "sagittal T1"), not a vertebra.
_SEQUENCE_AFTER = re.compile(
    r"\s*[- ]?(?:weight\w*|signal|hyper\w*|hypo\w*|iso\w*|stir|flair|images?|sequences?|fat|post|pre"
    r"|and\s+T\d|/)",
    re.IGNORECASE,
)
_SEQUENCE_BEFORE = re.compile(r"(?:sagittal|axial|coronal|on|and|fat[- ]saturated|fs|post[- ]contrast)\s*$", re.I)
_SIDE = re.compile(r"\b(left|right|bilateral(?:ly)?|both\s+sides|both)\b(?:[- ]sided)?", re.IGNORECASE)
_LEVEL_HEADING = re.compile(
    r"^[ \t]*(?:at\s+)?(?P<level>[CTLS]\d{1,2}(?:\s*[-/]\s*[CTLS]?\d{1,2})?)\s*[:.]", re.I | re.M
)
_GROUP_JOINER = re.compile(r"^[\s,]*(?:(?:and|or|as\s+well\s+as|&)\s+)?(?:(?:at|to)\s+)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LevelMention:
    """A level written in the text: where it is and the vertebrae or segments it names."""

    start: int
    end: int
    levels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SideMention:
    """A side written in the text."""

    start: int
    end: int
    side: Side


def _name(region: str, number: str) -> str | None:
    name = f"{region.upper()}{int(number)}"
    return name if name in SPINE_LEVELS else None


def _segments(upper: str, lower: str) -> tuple[str, ...]:
    """Motion segments from upper to lower vertebra: L4, S1 -> ('L4-L5', 'L5-S1')."""
    first, last = level_index(upper), level_index(lower)
    return tuple(f"{SPINE_LEVELS[i]}-{SPINE_LEVELS[i + 1]}" for i in range(first, last))


def parse_level(text: str) -> tuple[str, ...]:
    """Normalise a written level ('L4/5', 'L4-S1', 'S1') to vertebrae or segments; () if it is not one."""
    match = _LEVEL.fullmatch(text.strip())
    return _levels_of(match) if match else ()


def _levels_of(match: re.Match[str]) -> tuple[str, ...]:
    upper = _name(match["r1"], match["n1"])
    if upper is None:
        return ()
    if match["n2"] is None:
        return (upper,)
    lower = _name(match["r2"] or match["r1"], match["n2"])
    if lower is None or level_index(lower) <= level_index(upper):
        return ()
    return _segments(upper, lower)


def find_levels(text: str) -> list[LevelMention]:
    """Every spine level written in the text, in order; MRI sequences ('T2 hyperintense') are skipped."""
    found: list[LevelMention] = []
    for match in _LEVEL.finditer(text):
        levels = _levels_of(match)
        if not levels:
            continue
        if match["r1"].upper() == "T" and match["n2"] is None and int(match["n1"]) <= 2:
            after, before = (
                text[match.end() : match.end() + 16],
                text[max(0, match.start() - 20) : match.start()],
            )
            if _SEQUENCE_AFTER.match(after) or _SEQUENCE_BEFORE.search(before):
                continue
        found.append(LevelMention(match.start(), match.end(), levels))
    return found


def find_sides(text: str) -> list[SideMention]:
    """Every side written in the text, in order."""
    found = []
    for match in _SIDE.finditer(text):
        word = match[1].lower()
        side = Side.left if word == "left" else Side.right if word == "right" else Side.bilateral
        found.append(SideMention(match.start(), match.end(), side))
    return found


def level_headings(text: str) -> list[LevelMention]:
    """Lines that open with a level and a colon ('L4-5: ...'); they set the level for what follows."""
    found = []
    for match in _LEVEL_HEADING.finditer(text):
        levels = parse_level(match["level"])
        if levels:
            found.append(LevelMention(match.start("level"), match.end("level"), levels))
    return found


def grouped(mentions: list[LevelMention], text: str, *, from_end: bool = False) -> tuple[str, ...]:
    """The first (or last) run of levels joined by 'and', 'or' or commas, as one tuple of levels."""
    if not mentions:
        return ()
    ordered = list(reversed(mentions)) if from_end else mentions
    run = [ordered[0]]
    for mention in ordered[1:]:
        left, right = (mention, run[-1]) if from_end else (run[-1], mention)
        if not _GROUP_JOINER.match(text[left.end : right.start]):
            break
        run.append(mention)
    if from_end:
        run.reverse()
    levels: list[str] = []
    for mention in run:
        levels.extend(level for level in mention.levels if level not in levels)
    return tuple(levels)


def combined_side(sides: list[SideMention]) -> Side | None:
    """One side for a run of side words: 'left and right' is bilateral."""
    kinds = {mention.side for mention in sides}
    if not kinds:
        return None
    if Side.bilateral in kinds or kinds == {Side.left, Side.right}:
        return Side.bilateral
    return next(iter(kinds))


def levels_overlap(expected: str, found: str) -> bool:
    """Whether two levels name the same place: equal, or a vertebra belonging to the other's segment."""
    if expected == found:
        return True
    a, b = expected.split("-"), found.split("-")
    if len(a) == len(b):
        return False
    return set(a) <= set(b) or set(b) <= set(a)
