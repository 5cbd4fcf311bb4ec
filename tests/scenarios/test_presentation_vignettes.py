"""Presentations written the way published cases state them, in case schema 2, assessed end to end.

The expected answers here are about what the case says (the findings read from it), not about the ranking, which
the differential model decides.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fbss.case.model import Presence
from fbss.case.parse import parse_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reasoning.findings import read_findings
from tests.cli.test_cli import fbss

P, A, U = Presence.present, Presence.absent, Presence.unknown

# A man in his thirties, months after an operation for a disc herniation whose technique is not known, with
# leg pain that began suddenly on lifting, an absent ankle jerk, a positive crossed straight-leg raise, ODI 38 %,
# and no benefit from rest or a course of oral steroids.
SUDDEN_SCIATICA: dict[str, Any] = {
    "schema_version": "2",
    "id": "vignette-sudden-sciatica",
    "patient": {"age": 36, "sex": "male"},
    "index_surgery": {"type": "discectomy", "levels": ["L5-S1"], "side": "left"},
    "course": {"months_since_surgery": 9, "relief_after_surgery": "present"},
    "pain": {
        "leg_pain": "present",
        "leg_intensity": "severe",
        "back_pain": "present",
        "back_intensity": "mild",
        "onset": "sudden",
        "onset_after_lifting_or_strain": "present",
        "shooting": "present",
        "radiates_below_knee": "present",
        "side": "left",
    },
    "exam": {
        "reflexes": [{"reflex": "achilles", "side": "left", "state": "absent"}],
        "straight_leg_raise": "present",
        "crossed_straight_leg_raise": "present",
    },
    "function": {"odi_percent": 38},
    "prior_treatments": [
        {"treatment": "rest_or_activity_restriction", "response": "none"},
        {"treatment": "oral_steroid_course", "response": "none"},
    ],
}

# The day after an OLIF with posterior screws: abdominal and flank pain, falling haemoglobin, low blood pressure,
# and a retroperitoneal collection on CT.
BLEED_AFTER_OLIF: dict[str, Any] = {
    "schema_version": "2",
    "id": "vignette-olif-bleed",
    "patient": {"age": 67, "sex": "female"},
    "index_surgery": {
        "type": "fusion",
        "levels": ["L4-L5"],
        "approach": "olif",
        "other_approaches": ["posterior"],
        "position": "lateral",
        "instrumented": "present",
    },
    "course": {"months_since_surgery": 0.03},
    "pain": {"abdominal_pain": "present", "nrs_overall": 9},
    "systemic": {"hypotension": "present", "haemoglobin_falling": "present", "tachycardia": "present"},
    "diagnostics": [{"finding": "retroperitoneal_mass", "modality": "ct", "side": "left"}],
}


def read_as_stated(data: dict[str, Any], expected: dict[str, Presence], kb: KnowledgeBase) -> None:
    """The findings named read as expected, and the whole assessment runs on the case."""
    case = parse_case(data)
    state = read_findings(case, kb).state
    assert {f: state[f] for f in expected} == expected
    assert assess(case, kb).differential.causes


def test_sudden_sciatica_after_a_disc_operation_is_read_as_stated(kb: KnowledgeBase) -> None:
    expected = {
        "discectomy_performed": P,
        "sudden_onset": P,
        "onset_after_lifting": P,
        "leg_pain_severe": P,
        "severe_pain": P,
        "back_pain_severe": A,
        "ankle_reflex_reduced": P,
        "neural_tension_sign": P,
        "pain_below_knee": P,
        "rest_failed": P,
        "oral_steroids_failed": P,
        "odi_over_40": A,
        "neurological_deficit": P,  # the absent ankle jerk
    }
    read_as_stated(SUDDEN_SCIATICA, expected, kb)


def test_bleeding_after_a_lateral_approach_is_read_as_stated(kb: KnowledgeBase) -> None:
    expected = {
        "anterior_or_lateral_access": P,
        "lateral_positioning": P,
        "bleeding_signs": P,
        "tachycardia": P,
        "dx_retroperitoneal_mass": P,
        "severe_pain": P,
        "fusion_performed": P,
        "t_within_2_weeks": P,
    }
    read_as_stated(BLEED_AFTER_OLIF, expected, kb)


def test_the_command_line_assesses_a_schema_2_case(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(SUDDEN_SCIATICA), encoding="utf-8")
    run = fbss("assess", str(path), "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["case_id"] == "vignette-sudden-sciatica"
    path.write_text(json.dumps({**SUDDEN_SCIATICA, "schema_version": "3"}), encoding="utf-8")
    run = fbss("assess", str(path))
    assert run.returncode != 0 and "schema_version" in run.stderr
