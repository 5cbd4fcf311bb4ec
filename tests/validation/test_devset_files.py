"""The development set of published cases: every case loads, has its answer kept apart, and does not give it away."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from fbss.case.parse import parse_case
from fbss.knowledge.loader import default_knowledge

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "validation" / "cases"
ANSWERS = ROOT / "validation" / "answers"
PROPOSED_CAUSES = {
    "functional_neurological_disorder",
    "inflammatory_polyneuropathy",
    "iatrogenic_vascular_injury",
    "iatrogenic_visceral_injury",
    "intradural_or_cord_lesion",
    "failed_disc_arthroplasty",
    "peripheral_nerve_injury",
}
SOURCE_KINDS = {"case_report", "case_series", "textbook_case", "clinic_case_page"}
REGIONS = {"cervical", "thoracic", "lumbar"}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
CASE_FILES = sorted(CASES.glob("*.yaml"))
ANSWER_FILES = sorted(ANSWERS.glob("*.yaml"))


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: expected a mapping"
    return data


@cache
def _known_causes() -> frozenset[str]:
    return frozenset({cause.id for cause in default_knowledge().causes} | PROPOSED_CAUSES)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_file_loads_as_a_case_with_its_source(path: Path) -> None:
    data = _read(path)
    assert data["id"] == path.stem and ID_PATTERN.match(path.stem)
    source = data["source"]
    assert source["citation"].strip() and source["url"].startswith("http")
    assert source["kind"] in SOURCE_KINDS
    assert data["region"] in REGIONS
    assert len(data["presentation"].split()) >= 15, "the presentation tells the story in words"
    assert all(isinstance(item, str) and item.strip() for item in data.get("unmapped") or [])
    case = parse_case(data["case"], origin=path.name)
    assert case.id == data["id"]


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_has_an_answer_with_a_known_cause(path: Path) -> None:
    answer_path = ANSWERS / path.name
    assert answer_path.exists(), f"no answer file for {path.name}"
    answer = _read(answer_path)
    assert answer["id"] == path.stem
    assert answer["cause"] in _known_causes(), f"unknown cause {answer['cause']!r}"
    unknown = set(answer.get("coexisting") or []) - _known_causes()
    assert not unknown, f"unknown coexisting causes {sorted(unknown)}"
    assert answer["cause"] not in (answer.get("coexisting") or [])
    assert isinstance(answer["emergency"], bool)
    assert str(answer["deciding_test"]).strip() and str(answer["deciding_test_text"]).strip()


def test_every_answer_belongs_to_a_case() -> None:
    orphans = {p.name for p in ANSWER_FILES} - {p.name for p in CASE_FILES}
    assert not orphans


def _case_text(data: dict[str, Any]) -> str:
    """What a reader sees of the case in words: the presentation and the case's free text.

    Coded findings are left out: an earlier test (plain films before the deciding CT) may rightly report a finding
    whose code shares its name with the answer's cause.
    """
    case = {k: v for k, v in data["case"].items() if k not in {"id", "diagnostics"}}
    return (str(data["presentation"]) + "\n" + yaml.safe_dump(case)).lower()


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_does_not_give_the_answer_away(path: Path) -> None:
    data, answer = _read(path), _read(ANSWERS / path.name)
    text = re.sub(r"\s+", " ", _case_text(data))
    cause_words = answer["cause"].replace("_", " ")
    assert cause_words not in text, f"the case names its answer ({cause_words!r})"
    for field in ("deciding_test_text", "outcome"):
        told = re.sub(r"\s+", " ", str(answer.get(field) or "")).lower().strip()
        assert len(told) < 25 or told not in text, f"the case repeats the answer's {field}"
