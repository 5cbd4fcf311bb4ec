"""An emergency no single finding names is still flagged once the differential makes its cause likely: a bowel
injury after a posterior discectomy (Kim 2010, in the development set) has no red flag of its own."""

from __future__ import annotations

from typing import Any

from fbss.case.parse import parse_case
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment, assess

# A distended, tender abdomen straight after a two-level microdiscectomy (bowel-injury-kim-2010).
BOWEL: dict[str, Any] = {
    "id": "bowel",
    "index_surgery": {"type": "microdiscectomy", "levels": ["L4-S1"]},
    "course": {"months_since_surgery": 0},
    "pain": {"abdominal_pain": "present"},
    "systemic": {"abdominal_distension": "present"},
}


def _assess(kb: KnowledgeBase, data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), kb)


def test_a_likely_visceral_injury_is_an_emergency_with_its_tests_first(kb: KnowledgeBase) -> None:
    a = _assess(kb, BOWEL)
    flag = next(f for f in a.triage.fired if f.flag == "likely_iatrogenic_visceral_injury")
    assert flag.urgency is Urgency.emergency and a.triage.level is Urgency.emergency
    assert "CT of the abdomen and pelvis" in flag.action
    assert {t.finding for t in flag.fired_by} >= {"abdominal_pain"}
    assert flag.sources  # the basis is shown with the flag
    urgent = [t.test for t in a.workup.urgent]
    assert "ct_abdomen_pelvis" in urgent
    assert any(row.kind == "red_flag" and "visceral" in row.title.lower() for row in a.plan.steps)


def test_it_does_not_fire_on_a_prior_or_below_its_threshold(kb: KnowledgeBase) -> None:
    quiet = _assess(kb, {"id": "q", "index_surgery": {"type": "microdiscectomy", "levels": ["L5-S1"]}})
    assert not [f for f in quiet.triage.fired if f.flag.startswith("likely_")]
    months_later = _assess(kb, {**BOWEL, "course": {"months_since_surgery": 30}, "systemic": {}})
    visceral = next(c for c in months_later.differential.causes if c.cause == "iatrogenic_visceral_injury")
    threshold = kb.cause("iatrogenic_visceral_injury").emergency
    assert threshold is not None and visceral.probability < threshold.min_probability
    assert "likely_iatrogenic_visceral_injury" not in [f.flag for f in months_later.triage.fired]


def test_every_urgent_cause_names_tests_that_can_show_it(kb: KnowledgeBase) -> None:
    urgent = [c for c in kb.causes if c.emergency is not None]
    assert {c.id for c in urgent} >= {"epidural_haematoma", "iatrogenic_vascular_injury", "iatrogenic_visceral_injury"}
    for cause in urgent:
        assert cause.emergency is not None
        linked = {link.finding for link in cause.links}
        catalogue = {t.id: t for t in kb.care.tests.tests}
        revealed = {f for t in cause.emergency.tests for f in catalogue[t].reveals}
        assert linked & revealed, cause.id


def test_the_title_says_possible_below_an_even_chance_and_likely_from_it(kb: KnowledgeBase) -> None:
    """Abdominal pain alone after a discectomy puts a bowel injury near 25 %: an emergency, but only 'possible'."""
    pain_only = {key: value for key, value in BOWEL.items() if key != "systemic"}
    for data, word in ((pain_only, "Possible"), (BOWEL, "Likely")):
        a = _assess(kb, data)
        cause = next(c for c in a.differential.causes if c.cause == "iatrogenic_visceral_injury")
        flag = next(f for f in a.triage.fired if f.flag == "likely_iatrogenic_visceral_injury")
        assert (cause.probability >= 0.5) is (word == "Likely"), cause.probability
        assert flag.title.startswith(f"{word} iatrogenic visceral injury"), flag.title
        assert flag.urgency is Urgency.emergency
