"""The work-up values a test as the differential reads a study: an evidence group once, a finding by what 'not shown'
says for a test that can miss it."""

from __future__ import annotations

import math

import pytest

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reasoning.workup import _compiled, _not_shown, _swing
from tests.conftest import make_case


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_a_study_that_always_shows_the_finding_reads_its_absence_in_full() -> None:
    assert _not_shown(15.0, 0.06, 1.0) == pytest.approx(math.log(0.06))


def test_a_study_that_cannot_show_the_finding_says_nothing_when_it_does_not() -> None:
    assert _not_shown(15.0, 0.06, 0.0) == 0.0


def test_a_study_that_can_miss_the_finding_counts_less_against_the_cause() -> None:
    # a sacral fracture and a plain pelvic film (sensitivity 14 %, Graul 2021)
    weak = _not_shown(10.0, 0.2, 0.14)
    assert math.log(0.2) < weak < 0.0


def test_screw_and_rod_signs_on_one_radiograph_count_once(kb: KnowledgeBase) -> None:
    """A radiograph that could show a broken screw, a broken rod and a lucency shows one failing construct."""
    xray = _compiled(kb).tests["xray_standing"]
    links = xray.groups["implant_failure"]
    group = kb.differential.evidence_groups
    construct = next(i for i, g in enumerate(group) if g.id == "implant_on_imaging")
    members = [up for _, g, up, _ in links if g == construct]
    assert len(members) >= 3  # the test reveals several signs of the same construct
    states = dict.fromkeys(xray.findings, Presence.unknown)
    base = _logit(0.05)
    moved = _swing(base, states, links)
    assert moved is not None
    high, _ = moved
    ungrouped = sum(up for _, g, up, _ in links if g != construct and up > 0)
    assert high == pytest.approx(1 / (1 + math.exp(-(base + ungrouped + max(members)))))
    assert high < 1 / (1 + math.exp(-(base + ungrouped + sum(members))))


def test_a_study_less_sensitive_for_a_recurrence_counts_less_against_it(kb: KnowledgeBase) -> None:
    """CT myelography (sensitivity 80 %) not showing a recurrent herniation says less than MRI (95 %) not showing it."""
    tests = _compiled(kb).tests

    def against(test: str) -> float:
        links = tests[test].groups["recurrent_disc_herniation"]
        return min(down for f, _, _, down in links if f == "dx_recurrent_disc_herniation")

    assert against("mri_gadolinium") < against("ct_myelography") < 0.0


def test_an_urgent_infection_work_up_takes_the_mri_before_the_biopsy(kb: KnowledgeBase) -> None:
    """Blood cultures and the MRI first; the image-guided biopsy aims at what the MRI showed (IDSA 2015)."""
    case = make_case(
        index_surgery={"date": "2026-01-10"},
        red_flags={"fever": "present"},
        exam={"motor_deficit": "present", "motor_deficit_progressive": "present"},
    )
    urgent = [t.test for t in assess(case, kb).workup.urgent]
    assert "deep_culture_biopsy" in urgent
    assert urgent.index("blood_cultures") < urgent.index("mri_gadolinium") < urgent.index("deep_culture_biopsy")
