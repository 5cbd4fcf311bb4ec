"""Intervals on the real line, written "[a, b)", and the check that a list of them tiles a range exactly."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_NUMBER = r"[-+]?(?:inf|\d+(?:\.\d+)?)"
_PATTERN = re.compile(rf"^\s*([\[(])\s*({_NUMBER})\s*,\s*({_NUMBER})\s*([\])])\s*$")

# Comparisons round to this many decimals so that 30.000000000000004 % counts as 30 %.
DECIMALS = 9


@dataclass(frozen=True)
class Interval:
    """A real interval; `low_closed` / `high_closed` say whether each end belongs to it."""

    low: float
    high: float
    low_closed: bool
    high_closed: bool

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Read "[0, 20]", "(20, 40]", "(-inf, 30)"; infinite ends must be open."""
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not an interval; write it like '[0, 20]', '(20, 40]' or '(-inf, 30)'")
        opening, low_text, high_text, closing = match.groups()
        low, high = float(low_text), float(high_text)
        interval = cls(low, high, opening == "[", closing == "]")
        if (math.isinf(low) and interval.low_closed) or (math.isinf(high) and interval.high_closed):
            raise ValueError(f"{text!r}: an infinite end must be open, '(' or ')'")
        if low > high or (low == high and not (interval.low_closed and interval.high_closed)):
            raise ValueError(f"{text!r} is empty; the lower end must come first")
        return interval

    def contains(self, value: float) -> bool:
        """Whether the value (rounded to DECIMALS) lies in the interval."""
        v = round(value, DECIMALS)
        above = v >= self.low if self.low_closed else v > self.low
        below = v <= self.high if self.high_closed else v < self.high
        return above and below

    def __str__(self) -> str:
        def show(x: float) -> str:
            if math.isinf(x):
                return "inf" if x > 0 else "-inf"
            return str(int(x)) if x == int(x) else str(x)

        opening = "[" if self.low_closed else "("
        closing = "]" if self.high_closed else ")"
        return f"{opening}{show(self.low)}, {show(self.high)}{closing}"


def tiling_problem(domain: Interval, parts: Sequence[Interval]) -> str | None:
    """Why `parts` do not cover `domain` exactly once (no gap, no overlap), or None if they do."""
    if not parts:
        return "no bands given"
    ordered = sorted(parts, key=lambda i: (i.low, not i.low_closed))
    first, last = ordered[0], ordered[-1]
    if (first.low, first.low_closed) != (domain.low, domain.low_closed):
        return f"the bands start at {first} but the scale starts at {domain}"
    if (last.high, last.high_closed) != (domain.high, domain.high_closed):
        return f"the bands end at {last} but the scale ends at {domain}"
    for left, right in itertools.pairwise(ordered):
        if left.high != right.low:
            kind = "gap" if left.high < right.low else "overlap"
            return f"{kind} between {left} and {right}"
        if left.high_closed and right.low_closed:
            return f"overlap: {left.high:g} belongs to both {left} and {right}"
        if not left.high_closed and not right.low_closed:
            return f"gap: {left.high:g} belongs to neither {left} nor {right}"
    return None
