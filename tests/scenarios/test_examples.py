"""The example cases as vignettes: for each patient, what a spine specialist expects the assessment to say.

The expectations live in examples/expected.yaml, next to the cases, so a reviewer can read the story, the case
and the expected answer side by side and change them without reading Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from fbss.case.parse import read_case
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import load_knowledge
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.likely_emergency import FLAG_PREFIX

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "examples" / "cases"
EXPECTED_FILE = ROOT / "examples" / "expected.yaml"
DEFAULT_NOT_IN_TOP = 3
TRIAGE_LEVELS = {"emergency", "same_day", "within_days", "none"}
REAL_SHARE = 0.10  # a cause below 10 % of the main-cause probability does not "rank high" whatever its place
CHECKS = ("top_causes", "not_in_top", "excluded", "red_flags_fired", "fired_by", "ask_now", "triage_level")


@dataclass(frozen=True)
class Ranked:
    """A cause that must (or must not) rank within the top `within` places."""

    cause: str
    within: int

    @classmethod
    def parse(cls, item: str | dict[str, Any], default_within: int) -> Ranked:
        if isinstance(item, str):
            return cls(item, default_within)
        return cls(item["cause"], int(item.get("within", default_within)))


@dataclass(frozen=True)
class Expected:
    """A specialist's expected answer for one case."""

    name: str
    story: str
    top_causes: tuple[Ranked, ...]
    not_in_top: tuple[Ranked, ...]
    excluded: frozenset[str]
    red_flags_fired: frozenset[str]
    fired_by: dict[str, frozenset[str]]
    ask_now: frozenset[str] | None
    triage_level: str
    gaps: dict[str, str]

    @classmethod
    def parse(cls, name: str, raw: dict[str, Any]) -> Expected:
        unknown = set(raw) - {"story", *CHECKS, "gaps"}
        assert not unknown, f"{name}: unknown keys in expected.yaml: {sorted(unknown)}"
        gaps = dict(raw.get("gaps") or {})
        assert set(gaps) <= set(CHECKS), f"{name}: gaps must name checks from {CHECKS}"
        level = raw["triage_level"]
        assert level in TRIAGE_LEVELS, f"{name}: triage_level must be one of {sorted(TRIAGE_LEVELS)}"
        ask_now = raw.get("ask_now")
        return cls(
            name=name,
            story=raw["story"],
            top_causes=tuple(Ranked.parse(i, 1) for i in raw["top_causes"]),
            not_in_top=tuple(Ranked.parse(i, DEFAULT_NOT_IN_TOP) for i in raw.get("not_in_top", [])),
            excluded=frozenset(raw.get("excluded", [])),
            red_flags_fired=frozenset(raw["red_flags_fired"]),
            fired_by={flag: frozenset(findings) for flag, findings in (raw.get("fired_by") or {}).items()},
            ask_now=None if ask_now is None else frozenset(ask_now),
            triage_level=level,
            gaps=gaps,
        )


def _load_expected() -> dict[str, Expected]:
    data = yaml.safe_load(EXPECTED_FILE.read_text(encoding="utf-8"))
    return {name: Expected.parse(name, raw) for name, raw in data["cases"].items()}


EXPECTED = _load_expected()
CASE_NAMES = sorted(EXPECTED)


@cache
def kb() -> KnowledgeBase:
    return load_knowledge()


@cache
def assessment(name: str) -> Assessment:
    return assess(read_case(CASES_DIR / f"{name}.json"), kb())


def _cases_for(check: str, names: list[str] = CASE_NAMES) -> list[Any]:
    """One parameter per case; a check the knowledge base does not meet yet is a strict expected failure."""
    params = []
    for name in names:
        gap = EXPECTED[name].gaps.get(check)
        marks = [pytest.mark.xfail(reason=f"known gap: {gap}", strict=True)] if gap else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


def _ranking(name: str) -> list[str]:
    return [c.cause for c in assessment(name).differential.causes]


def _show(name: str, upto: int = 6) -> str:
    causes = assessment(name).differential.causes[:upto]
    return ", ".join(f"{c.rank}. {c.cause} {c.probability:.0%}" for c in causes)


# ---- the collection as a whole --------------------------------------------------------------------------


def test_every_case_file_has_an_expected_answer_and_every_answer_a_case() -> None:
    files = {p.stem for p in CASES_DIR.glob("*.json")}
    assert files == set(EXPECTED), (
        f"cases without an expected answer: {sorted(files - set(EXPECTED))}; "
        f"expected answers without a case: {sorted(set(EXPECTED) - files)}"
    )


def test_expected_answers_name_only_known_causes_and_flags() -> None:
    causes = {c.id for c in kb().causes}
    flags = {f.id for f in kb().red_flags} | {FLAG_PREFIX + c.id for c in kb().causes if c.emergency is not None}
    for e in EXPECTED.values():
        named = {r.cause for r in (*e.top_causes, *e.not_in_top)} | e.excluded
        assert named <= causes, f"{e.name}: unknown causes {sorted(named - causes)}"
        named_flags = e.red_flags_fired | set(e.fired_by) | (e.ask_now or frozenset())
        assert named_flags <= flags, f"{e.name}: unknown red flags {sorted(named_flags - flags)}"


def test_every_cause_in_the_knowledge_base_is_the_expected_answer_of_some_case() -> None:
    covered = {r.cause for e in EXPECTED.values() for r in e.top_causes}
    missing = {c.id for c in kb().causes} - covered
    assert not missing, f"no example case expects these causes near the top: {sorted(missing)}"


def test_every_red_flag_fires_in_some_case() -> None:
    """Every flag is shown by an example case, or by a vignette of the red-flag scenario suite."""
    from tests.scenarios.test_red_flags import SCENARIOS

    covered = {flag for e in EXPECTED.values() for flag in e.red_flags_fired}
    covered |= {s.flag for s in SCENARIOS if s.flag}
    missing = {f.id for f in kb().red_flags} - covered
    assert not missing, f"no example case or scenario fires these red flags: {sorted(missing)}"


def test_several_cases_are_quiet_no_red_flag_and_nothing_to_ask_now() -> None:
    quiet = [e.name for e in EXPECTED.values() if not e.red_flags_fired and e.ask_now == frozenset()]
    assert len([name for name in quiet if not EXPECTED[name].gaps]) >= 3


def test_cases_carry_dates_so_timing_is_computed() -> None:
    for name in CASE_NAMES:
        case = read_case(CASES_DIR / f"{name}.json")
        assert case.assessment_date is not None and case.index_surgery.date is not None, name


# ---- each case, end to end through assess ---------------------------------------------------------------


@pytest.mark.parametrize("name", _cases_for("top_causes"))
def test_the_expected_cause_ranks_at_the_top(name: str) -> None:
    ranking = _ranking(name)
    for want in EXPECTED[name].top_causes:
        assert want.cause in ranking[: want.within], (
            f"{EXPECTED[name].story}\nexpected {want.cause} within the top {want.within}; got {_show(name)}"
        )


@pytest.mark.parametrize("name", _cases_for("not_in_top"))
def test_a_plausible_wrong_answer_does_not_rank_high(name: str) -> None:
    """The causes compete for one probability mass: behind a clear leader, the order of causes near zero carries no
    meaning, so a wrong answer ranks high when it is within the places given and holds a real share."""
    causes = assessment(name).differential.causes
    for wrong in EXPECTED[name].not_in_top:
        high = [c.cause for c in causes[: wrong.within] if c.probability >= REAL_SHARE]
        assert wrong.cause not in high, (
            f"{EXPECTED[name].story}\n{wrong.cause} should not rank in the top {wrong.within}: {_show(name)}"
        )


@pytest.mark.parametrize("name", _cases_for("excluded"))
def test_causes_impossible_after_this_operation_are_excluded(name: str) -> None:
    excluded = {x.cause for x in assessment(name).differential.excluded}
    assert EXPECTED[name].excluded <= excluded
    assert not excluded & set(_ranking(name)), "an excluded cause must not also be ranked"


@pytest.mark.parametrize("name", _cases_for("red_flags_fired"))
def test_exactly_the_expected_red_flags_fire(name: str) -> None:
    fired = {f.flag for f in assessment(name).triage.fired}
    assert fired == EXPECTED[name].red_flags_fired, EXPECTED[name].story


@pytest.mark.parametrize("name", _cases_for("fired_by"))
def test_each_fired_flag_names_the_findings_that_fired_it(name: str) -> None:
    fired = {f.flag: f for f in assessment(name).triage.fired}
    for flag in fired.values():
        assert flag.fired_by, f"{flag.flag} fired without naming a trigger"
    for flag, findings in EXPECTED[name].fired_by.items():
        assert flag in fired, f"{flag} did not fire"
        triggers = {t.finding for t in fired[flag].fired_by}
        assert findings <= triggers, f"{flag} fired by {sorted(triggers)}; expected {sorted(findings)} among these"


ASK_NOW_CASES = [name for name in CASE_NAMES if EXPECTED[name].ask_now is not None]


@pytest.mark.parametrize("name", _cases_for("ask_now", ASK_NOW_CASES))
def test_flags_waiting_on_an_unknown_answer(name: str) -> None:
    ask_now = {f.flag for f in assessment(name).triage.ask_now}
    assert ask_now == EXPECTED[name].ask_now, EXPECTED[name].story


@pytest.mark.parametrize("name", _cases_for("triage_level"))
def test_triage_level(name: str) -> None:
    level = assessment(name).triage.level
    assert (level.value if level is not None else "none") == EXPECTED[name].triage_level, EXPECTED[name].story


# ---- the same cases through the command line ------------------------------------------------------------


def _fbss_command() -> list[str]:
    script = Path(sys.executable).with_name("fbss")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fbss.cli"]


def test_the_cli_assesses_every_case_as_json_lines() -> None:
    paths = [str(CASES_DIR / f"{name}.json") for name in CASE_NAMES]
    result = subprocess.run(
        [*_fbss_command(), "assess", "--format", "json", *paths],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(CASE_NAMES)
    for name, line in zip(CASE_NAMES, lines, strict=True):
        data = json.loads(line)
        direct = assessment(name)
        assert data["case_id"] == direct.case_id
        assert [c["cause"] for c in data["differential"]["causes"]] == _ranking(name)
        assert {f["flag"] for f in data["triage"]["fired"]} == {f.flag for f in direct.triage.fired}
        assert data["triage"]["level"] == (direct.triage.level.value if direct.triage.level else None)
        assert data["knowledge_fingerprint"] == kb().fingerprint
