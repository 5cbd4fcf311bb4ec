"""What changed between two stored assessments, in clinical words: red flags, likely causes, ratings, SCS advice.

Reads the stored result (the JSON of `reports.data.to_data`) rather than recomputing, so that the history shows what
the clinician saw at the time; results stored by an older engine simply lack the newer sections.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fbss.reasoning.results import UNCALIBRATED_CEILING, shown_percent
from fbss.reports.care_wording import ADVICE_LABEL

# A cause is mentioned when its probability moved by at least this much, or it entered or left the top ranks.
MOVED = 0.05
TOP = 5


@dataclass(frozen=True, slots=True)
class CauseLine:
    title: str
    rank: int
    probability: float


@dataclass(frozen=True, slots=True)
class RatingLine:
    title: str
    label: str
    score: int


@dataclass(frozen=True, slots=True)
class StoredSummary:
    """The parts of a stored assessment that the history compares."""

    fired: Mapping[str, str]  # red flag id -> title
    causes: Mapping[str, CauseLine]
    categories: Mapping[str, RatingLine]
    options: Mapping[str, RatingLine]
    scs_advice: str | None  # None: no SCS section stored; "stopped": advice stopped
    urgent_tests: Mapping[str, str]
    ceiling: float = UNCALIBRATED_CEILING  # the highest probability the stored differential showed as a point value


def _items(data: Any, *path: str) -> list[dict[str, Any]]:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _ratings(items: list[dict[str, Any]]) -> dict[str, RatingLine]:
    return {
        str(r["id"]): RatingLine(str(r.get("title", r["id"])), str(r.get("label", "")), int(r.get("score", 0)))
        for r in items
        if "id" in r
    }


def summarise(result: Mapping[str, Any]) -> StoredSummary:
    """The comparable parts of one stored result."""
    data = dict(result)
    causes = {
        str(c["cause"]): CauseLine(str(c.get("title", c["cause"])), int(c.get("rank", 0)), float(c["probability"]))
        for c in _items(data, "differential", "causes")
        if "cause" in c and "probability" in c
    }
    differential = data.get("differential")
    calibration = differential.get("calibration") if isinstance(differential, dict) else None
    ceiling = float(calibration["shown_up_to"]) if isinstance(calibration, dict) else UNCALIBRATED_CEILING
    scs = data.get("scs")
    advice: str | None = None
    if isinstance(scs, dict):
        advice = str(scs["advice"]) if scs.get("advice") else "stopped"
    return StoredSummary(
        fired={str(f["flag"]): str(f.get("title", f["flag"])) for f in _items(data, "triage", "fired") if "flag" in f},
        causes=causes,
        categories=_ratings(_items(data, "options", "categories")),
        options=_ratings(_items(data, "options", "options")),
        scs_advice=advice,
        urgent_tests={
            str(t["test"]): str(t.get("title", t["test"])) for t in _items(data, "workup", "urgent") if "test" in t
        },
        ceiling=ceiling,
    )


def _advice(value: str) -> str:
    for level, label in ADVICE_LABEL.items():
        if level.value == value:
            return label
    return value


def _rating_changes(kind: str, old: Mapping[str, RatingLine], new: Mapping[str, RatingLine]) -> list[str]:
    lines = []
    for key, after in new.items():
        before = old.get(key)
        if before is not None and before.label != after.label:
            lines.append(f"{kind} {after.title}: {before.label} {before.score}/9 → {after.label} {after.score}/9")
    return lines


def assessment_changes(old: StoredSummary, new: StoredSummary) -> list[str]:
    """One line per clinically visible change, most urgent first; empty when nothing that matters moved."""
    lines = [f"Red flag now fired: {title}" for key, title in new.fired.items() if key not in old.fired]
    lines += [f"Red flag no longer fired: {title}" for key, title in old.fired.items() if key not in new.fired]
    lines += [f"Urgent test now called for: {t}" for key, t in new.urgent_tests.items() if key not in old.urgent_tests]
    for key, after in sorted(new.causes.items(), key=lambda item: item[1].rank):
        before = old.causes.get(key)
        if before is None:
            continue
        moved = abs(after.probability - before.probability) >= MOVED
        crossed = (before.rank <= TOP) != (after.rank <= TOP)
        if (before.rank <= TOP or after.rank <= TOP) and (moved or crossed):
            lines.append(
                f"{after.title}: {shown_percent(before.probability, old.ceiling)} → "
                f"{shown_percent(after.probability, new.ceiling)} "
                f"(rank {before.rank} → {after.rank})"
            )
    lines += _rating_changes("Category", old.categories, new.categories)
    if old.scs_advice is not None and new.scs_advice is not None and old.scs_advice != new.scs_advice:
        lines.append(f"Spinal cord stimulation advice: {_advice(old.scs_advice)} → {_advice(new.scs_advice)}")
    lines += _rating_changes("Option", old.options, new.options)
    return lines
