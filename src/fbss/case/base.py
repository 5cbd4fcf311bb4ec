"""The building blocks every part of a case uses: three-valued presence, the frozen model base, spinal segments."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from fbss.case.vocabulary import parse_segment


class Presence(StrEnum):
    """A clinical item is present, absent, or not known; unknown is never read as absent."""

    present = "present"
    absent = "absent"
    unknown = "unknown"


U = Presence.unknown


class CaseModel(BaseModel):
    """A frozen part of a case that refuses fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


Segment = Annotated[str, Field(description="A motion segment or range, e.g. 'L4-L5' or 'L4-S1'")]


def check_segments(values: list[str]) -> list[str]:
    """Segments in their canonical form ('l4-l5' -> 'L4-L5'); ValueError names a bad one."""
    cleaned = []
    for value in values:
        upper, lower = parse_segment(value)
        cleaned.append(f"{upper}-{lower}")
    return cleaned


class Side(StrEnum):
    left = "left"
    right = "right"
    bilateral = "bilateral"
    midline = "midline"
    unknown = "unknown"
