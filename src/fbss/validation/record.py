"""The recorded figures: per case, what the engine got right when they were last recorded.

A change may trade one case for another, but the totals over the recorded cases must not fall (checked in CI).
Cases added since the recording do not count until the figures are recorded again (`fbss validate --record`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from fbss.validation.metrics import Outcome

CHECKS = ("top1", "top3", "emergency_caught", "workup_hit")


def _hits(outcome: Outcome) -> dict[str, bool]:
    rank = outcome.rank
    return {
        "top1": rank == 1,
        "top3": rank is not None and rank <= 3,
        "emergency_caught": outcome.emergency and bool(outcome.urgent_flags),
        "workup_hit": outcome.workup_decidable and outcome.workup_hit,
    }


def write_record(outcomes: list[Outcome], path: Path, knowledge_version: str) -> None:
    cases = {o.case_id: [c for c, hit in _hits(o).items() if hit] for o in sorted(outcomes, key=lambda o: o.case_id)}
    header = (
        "# What the differential got right on each published case when these figures were recorded\n"
        "# (`fbss validate --record`). A test fails if a change lowers any total over these cases.\n"
    )
    body = {"knowledge_version": knowledge_version, "cases": cases}
    path.write_text(header + yaml.safe_dump(body, sort_keys=False, width=120), encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Drop:
    check: str
    recorded: int
    now: int
    lost: tuple[str, ...]  # cases right when recorded and wrong now


def compare(outcomes: list[Outcome], path: Path) -> list[Drop]:
    """The totals that fell since the recording, over the recorded cases still in the set."""
    recorded: dict[str, list[str]] = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("cases", {})
    now = {o.case_id: _hits(o) for o in outcomes if o.case_id in recorded}
    drops = []
    for check in CHECKS:
        before = sum(check in recorded[case_id] for case_id in now)
        after = sum(hits[check] for hits in now.values())
        if after < before:
            lost = tuple(sorted(c for c, hits in now.items() if check in recorded[c] and not hits[check]))
            drops.append(Drop(check, before, after, lost))
    return drops
