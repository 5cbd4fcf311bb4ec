"""Derived facts: what was operated, the pain in bands, deficits and reflexes, and where a finding's level lies."""

from __future__ import annotations

from typing import Any

import pytest

from fbss.case.derived import derive, levelled_findings
from fbss.case.levels import LevelRelation, level_relation
from fbss.case.model import Intensity, Presence
from fbss.case.parse import parse_case

P, A, U = Presence.present, Presence.absent, Presence.unknown


def facts(**parts: Any) -> Any:
    data: dict[str, Any] = {"id": "p1", "index_surgery": {"type": "laminectomy"}, **parts}
    return derive(parse_case(data))


def test_fused_to_sacrum_is_unknown_when_another_fusion_has_no_levels() -> None:
    # one fusion stops at L4-L5, the other's levels are not known: it may reach the sacrum
    d = facts(
        index_surgery={"type": "fusion", "levels": ["L4-L5"]},
        earlier_surgeries=[{"type": "fusion"}],
    )
    assert d.fused_to_sacrum is U
    assert d.multilevel_fusion is U
    assert (
        facts(
            index_surgery={"type": "fusion", "levels": ["L5-S1"]}, earlier_surgeries=[{"type": "fusion"}]
        ).fused_to_sacrum
        is P
    )
    assert (
        facts(
            index_surgery={"type": "fusion", "levels": ["L3-L5"]}, earlier_surgeries=[{"type": "fusion"}]
        ).multilevel_fusion
        is P
    )
    assert facts(index_surgery={"type": "fusion", "levels": ["L4-L5"]}).fused_to_sacrum is A


def test_a_fusion_done_with_a_laminectomy_counts_as_both() -> None:
    d = facts(index_surgery={"type": "fusion", "combined_with": ["laminectomy"], "levels": ["L4-S1"]})
    assert d.fusion_performed is P and d.decompression_performed is P and d.fused_to_sacrum is P
    d = facts(index_surgery={"type": "laminectomy", "combined_with": ["fusion"], "levels": ["L4-L5"]})
    assert d.fusion_performed is P and d.fused_to_sacrum is A


def test_an_operation_of_unknown_type_leaves_what_it_did_unknown() -> None:
    d = facts(index_surgery={"type": "unknown", "levels": ["L5-S1"]})
    assert d.fusion_performed is U and d.discectomy_performed is U and d.fused_to_sacrum is U
    assert d.surgery_group.value == "other"
    # a known discectomy stays known
    d = facts(index_surgery={"type": "discectomy"}, earlier_surgeries=[{"type": "unknown"}])
    assert d.discectomy_performed is P and d.surgery_group.value == "discectomy"


def test_dynamic_stabilisation_is_instrumented() -> None:
    assert facts(index_surgery={"type": "dynamic_stabilisation"}).instrumented is P


def test_retroperitoneal_access() -> None:
    assert facts(index_surgery={"type": "fusion", "approach": "alif"}).anterior_or_lateral_access is P
    assert (
        facts(
            index_surgery={"type": "fusion", "approach": "posterior", "other_approaches": ["olif"]}
        ).anterior_or_lateral_access
        is P
    )
    assert facts(index_surgery={"type": "fusion"}).anterior_or_lateral_access is U
    assert facts(index_surgery={"type": "microdiscectomy"}).anterior_or_lateral_access is A


def test_implants_removed_and_operative_events_over_all_operations() -> None:
    d = facts(
        index_surgery={"type": "laminectomy", "dural_tear": "present"}, earlier_surgeries=[{"type": "implant_removal"}]
    )
    assert d.implants_removed is P and d.dural_tear is P
    assert facts().implants_removed is U and facts().dural_tear is U
    assert facts(index_surgery={"type": "fusion", "implants_removed": "absent"}).implants_removed is A


@pytest.mark.parametrize(
    ("pain", "back", "band"),
    [
        ({"nrs_back": 8}, P, Intensity.severe),
        ({"nrs_back": 5, "back_intensity": "severe"}, P, Intensity.moderate),  # the number wins over the words
        ({"nrs_back": 3}, P, Intensity.mild),
        ({"nrs_back": 0}, A, Intensity.none),
        ({"back_intensity": "severe"}, P, Intensity.severe),
        ({"back_pain": "present"}, P, Intensity.unknown),
        ({"back_share_percent": 30}, P, Intensity.unknown),
        ({"back_share_percent": 0}, A, Intensity.unknown),
        ({}, U, Intensity.unknown),
    ],
)
def test_back_pain_present_and_its_band(pain: dict[str, Any], back: Presence, band: Intensity) -> None:
    d = facts(pain=pain)
    assert (d.back_pain, d.back_pain_band) == (back, band)


def test_leg_pain_follows_the_leg_share() -> None:
    assert facts(pain={"back_share_percent": 100}).leg_pain is A
    assert facts(pain={"back_share_percent": 40}).leg_pain is P


@pytest.mark.parametrize(
    ("exam", "expected"),
    [
        ({"deficit_type_unstated": "present"}, P),
        ({"sensory_change": "present"}, P),
        ({"peripheral_nerve_deficit": "present"}, P),
        ({"reflexes": [{"reflex": "achilles", "state": "absent"}]}, P),
        ({"motor_deficit": "absent", "sensory_change": "absent"}, A),
        ({"motor_deficit": "absent"}, U),
        ({}, U),
    ],
)
def test_a_neurological_deficit_of_any_kind(exam: dict[str, Any], expected: Presence) -> None:
    assert facts(exam=exam).neurological_deficit is expected


def test_reflexes_by_root() -> None:
    d = facts(
        exam={
            "reflexes": [
                {"reflex": "achilles", "side": "left", "state": "absent"},
                {"reflex": "patellar", "side": "left", "state": "normal"},
            ]
        }
    )
    assert (d.reflex_reduced, d.reflex_reduced_s1, d.reflex_reduced_l4, d.reflex_brisk, d.areflexia) == (P, P, A, A, A)
    d = facts(
        exam={"reflexes": [{"reflex": "achilles", "state": "absent"}, {"reflex": "patellar", "state": "reduced"}]}
    )
    assert d.areflexia is P
    d = facts(exam={"reflexes": [{"reflex": "unspecified", "state": "reduced"}]})
    assert (d.reflex_reduced, d.reflex_reduced_s1, d.areflexia) == (P, U, U)
    d = facts()
    assert (d.reflex_reduced, d.reflex_brisk) == (U, U)


def test_pelvic_incidence_lumbar_lordosis_mismatch() -> None:
    assert facts(alignment={"pelvic_incidence_deg": 62, "lumbar_lordosis_deg": 38}).pi_ll_mismatch_deg == 24
    assert facts(alignment={"pelvic_incidence_deg": 62}).pi_ll_mismatch_deg is None


@pytest.mark.parametrize(
    ("segment", "operated", "expected"),
    [
        ("L4-L5", ["L4-L5"], LevelRelation.same),
        ("L4-L5", ["L4-S1"], LevelRelation.same),
        ("L3-L5", ["L4-L5"], LevelRelation.same),
        ("L3-L4", ["L4-S1"], LevelRelation.adjacent),
        ("L5-S1", ["L3-L5"], LevelRelation.adjacent),
        ("L2-L3", ["L4-L5"], LevelRelation.remote),
        ("C5-C6", ["L4-L5"], LevelRelation.remote),
        ("L4-L5", ["L2-L3", "L5-S1"], LevelRelation.adjacent),
        ("L4-L5", [], LevelRelation.unknown),
        (None, ["L4-L5"], LevelRelation.unknown),
        ("S1", ["L4-S1"], LevelRelation.same),  # a screw at S1 in an L4-S1 fusion
        ("L3", ["L4-S1"], LevelRelation.adjacent),
        ("L1", ["L4-S1"], LevelRelation.remote),
        ("pelvis", ["L4-S1"], LevelRelation.unknown),  # an iliac screw: not a spinal level
    ],
)
def test_level_relative_to_the_operated_levels(
    segment: str | None, operated: list[str], expected: LevelRelation
) -> None:
    assert level_relation(segment, operated) is expected


def test_study_findings_carry_their_level_relative_to_every_operation() -> None:
    case = parse_case(
        {
            "id": "p1",
            "index_surgery": {"type": "fusion", "levels": ["L4-L5"]},
            "earlier_surgeries": [{"type": "microdiscectomy", "levels": ["L5-S1"]}],
            "diagnostics": [
                {"finding": "spondylolisthesis", "modality": "xray", "level": "L3-L4"},
                {"finding": "recurrent_disc_herniation", "modality": "mri", "level": "L5-S1"},
                {"finding": "central_stenosis", "modality": "mri", "level": "L1-L2", "presence": "absent"},
                {"finding": "modic_changes", "modality": "mri"},
            ],
        }
    )
    d = derive(case)
    assert d.operated_segments == ("L4-L5", "L5-S1")
    assert [(f.finding.value, f.presence, f.relation) for f in levelled_findings(case, d)] == [
        ("spondylolisthesis", P, LevelRelation.adjacent),
        ("recurrent_disc_herniation", P, LevelRelation.same),
        ("central_stenosis", A, LevelRelation.remote),
    ]
