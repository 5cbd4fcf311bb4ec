"""The findings read from the presentation vocabulary: three-valued, never reading unknown as absent."""

from __future__ import annotations

from typing import Any

import pytest

from fbss.case.model import Presence
from fbss.case.parse import parse_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.findings import read_findings

P, A, U = Presence.present, Presence.absent, Presence.unknown
BASE: dict[str, Any] = {"id": "v", "index_surgery": {"type": "microdiscectomy", "levels": ["L5-S1"]}}

NEW_FINDINGS = [
    "back_pain",
    "leg_pain",
    "back_pain_severe",
    "leg_pain_severe",
    "severe_pain",
    "shooting_pain",
    "tingling",
    "aching_pain",
    "deep_pain",
    "sharp_pain",
    "cramping_pain",
    "constant_pain",
    "sudden_onset",
    "gradual_onset",
    "onset_after_lifting",
    "pain_worsening",
    "pain_progressive",
    "pain_improving",
    "worse_standing",
    "worse_walking",
    "worse_bending_forward",
    "worse_twisting",
    "worse_coughing_or_straining",
    "eased_lying_down",
    "sudden_pain_after_uneventful_recovery",
    "uneventful_early_recovery",
    "minimally_invasive_surgery",
    "prone_positioning",
    "lateral_positioning",
    "dural_tear",
    "implants_removed",
    "level_confirmed",
    "level_not_confirmed",
    "target_lesion_found",
    "target_lesion_not_found",
    "preop_imaging_concordant",
    "preop_imaging_discordant",
    "neuromonitoring_alert",
    "neuromonitoring_alert_persistent",
    "crossed_slr_positive",
    "femoral_stretch_positive",
    "neural_tension_sign",
    "neurological_deficit",
    "motor_grade_3_or_less",
    "peripheral_nerve_deficit",
    "peroneal_nerve_deficit",
    "femoral_nerve_deficit",
    "lateral_femoral_cutaneous_deficit",
    "cluneal_nerve_deficit",
    "arm_signs",
    "four_limb_signs",
    "bulbar_signs",
    "reflex_reduced",
    "ankle_reflex_reduced",
    "knee_reflex_reduced",
    "reflex_brisk",
    "areflexia",
    "spinal_tenderness",
    "operative_site_swelling",
    "unable_to_walk",
    "walking_under_100m",
    "walking_severely_limited",
    "walking_aid",
    "odi_over_40",
    "off_work_with_pain",
    "physically_demanding_work",
    "nausea",
    "vomiting",
    "nausea_or_vomiting",
    "abdominal_distension",
    "haematuria",
    "hypotension",
    "tachycardia",
    "haemoglobin_falling",
    "bleeding_signs",
    "headache",
    "dizziness",
    "pi_ll_mismatch_10",
    "pi_ll_mismatch_20",
    "pelvic_tilt_20",
    "sva_40mm",
    "sagittal_malalignment_measured",
    "coronal_offset_over_20mm",
    "coronal_imbalance",
    "osteoporosis",
    "osteopenia",
    "low_bone_density",
    "osteoporosis_treated",
    "hypertension",
    "heart_disease",
    "chronic_kidney_disease",
    "inflammatory_arthritis",
    "parkinsons_disease",
    "fibromyalgia",
    "rest_failed",
    "bracing_failed",
    "conservative_unspecified_failed",
    "oral_steroids_failed",
    "antibiotics_tried",
    "antibiotics_failed",
    "interlaminar_esi_positive",
    "facet_injection_positive",
    "si_joint_injection_positive",
    "csf_pleocytosis",
    "csf_protein_raised",
    "csf_glucose_ratio_low",
    "albuminocytologic_dissociation",
    "dx_vertebral_erosion",
    "dx_epidural_soft_tissue",
    "dx_dural_enhancement",
    "dx_intradural_lesion",
    "dx_original_lesion_persists",
    "dx_coronal_imbalance",
    "dx_low_bone_density",
    "dx_retroperitoneal_mass",
    "dx_vascular_injury",
    "dx_visceral_injury",
    "dx_ssep_abnormal",
    "dx_mep_abnormal",
    "dx_discography_concordant_pain",
    "dx_blood_culture_positive",
    "pain_below_knee",
    "lumbar_movement_restricted",
    "ascending_weakness",
    "peritoneal_signs",
    "reduced_consciousness",
    "excessive_bleeding",
    "bmp_used",
]


def states(kb: KnowledgeBase, **parts: Any) -> dict[str, Presence]:
    return read_findings(parse_case({**BASE, **parts}), kb).state


def test_every_new_finding_is_unknown_until_asked(kb: KnowledgeBase) -> None:
    state = states(kb)
    assert [f for f in NEW_FINDINGS if f not in kb.findings] == []
    assert {f: state[f] for f in NEW_FINDINGS if state[f] is not U} == {}


def test_a_discectomy_through_the_back_says_no_anterior_access_and_no_decompression(kb: KnowledgeBase) -> None:
    state = states(kb)
    assert state["anterior_or_lateral_access"] is A
    assert state["decompression_performed"] is A


@pytest.mark.parametrize(
    ("pain", "finding", "expected"),
    [
        ({"nrs_back": 8}, "back_pain_severe", P),
        ({"back_intensity": "severe"}, "back_pain_severe", P),
        ({"nrs_back": 4, "back_intensity": "severe"}, "back_pain_severe", A),  # the number decides
        ({"leg_intensity": "moderate"}, "severe_pain", U),  # the back is not known
        ({"leg_intensity": "moderate", "back_pain": "absent"}, "severe_pain", A),
        ({"nrs_overall": 8}, "severe_pain", P),  # one score for back and leg together
        ({"nrs_overall": 4, "leg_intensity": "moderate"}, "severe_pain", A),
        ({"nrs_back": 3, "nrs_leg": 4}, "severe_pain", A),
        ({"leg_intensity": "severe"}, "severe_pain", P),
        ({"back_pain": "present"}, "back_pain", P),
        ({"leg_pain": "absent"}, "leg_pain", A),
        ({"trend": "progressive"}, "pain_worsening", P),
        ({"trend": "stable"}, "pain_worsening", A),
        ({"onset": "gradual"}, "sudden_onset", A),
    ],
)
def test_pain_in_words(kb: KnowledgeBase, pain: dict[str, Any], finding: str, expected: Presence) -> None:
    assert states(kb, pain=pain)[finding] is expected


def test_sudden_new_pain_after_an_uneventful_recovery(kb: KnowledgeBase) -> None:
    state = states(kb, course={"uneventful_early_recovery": "present"}, pain={"onset": "sudden"})
    assert state["sudden_pain_after_uneventful_recovery"] is P
    state = states(kb, course={"uneventful_early_recovery": "absent"})
    assert state["sudden_pain_after_uneventful_recovery"] is A


@pytest.mark.parametrize(
    ("exam", "expected"),
    [
        ({"peripheral_nerve_deficit": "present", "peripheral_nerve": "common_peroneal"}, P),
        ({"peripheral_nerve_deficit": "present", "peripheral_nerve": "femoral"}, A),
        ({"peripheral_nerve_deficit": "present"}, U),
        ({"peripheral_nerve_deficit": "absent"}, A),
    ],
)
def test_a_deficit_in_one_nerves_territory(kb: KnowledgeBase, exam: dict[str, Any], expected: Presence) -> None:
    assert states(kb, exam=exam)["peroneal_nerve_deficit"] is expected


def test_reflexes_and_neural_tension(kb: KnowledgeBase) -> None:
    state = states(
        kb,
        exam={
            "reflexes": [{"reflex": "achilles", "side": "left", "state": "absent"}],
            "straight_leg_raise": "absent",
            "crossed_straight_leg_raise": "present",
        },
    )
    assert state["ankle_reflex_reduced"] is P and state["knee_reflex_reduced"] is U
    assert state["neural_tension_sign"] is P
    assert states(kb, exam={"motor_grade_weakest": 2, "motor_deficit": "present"})["motor_grade_3_or_less"] is P


@pytest.mark.parametrize(
    ("treatment", "finding", "expected"),
    [
        ({"treatment": "oral_steroid_course", "response": "none"}, "oral_steroids_failed", P),
        ({"treatment": "oral_steroid_course", "response": "worse"}, "oral_steroids_failed", P),
        ({"treatment": "oral_steroid_course", "response": "partial"}, "oral_steroids_failed", U),
        ({"treatment": "oral_steroid_course", "response": "marked"}, "oral_steroids_failed", A),
        ({"treatment": "oral_steroid_course", "relief_percent": 10}, "oral_steroids_failed", P),
        ({"treatment": "interlaminar_epidural_steroid", "response": "marked"}, "interlaminar_esi_positive", P),
        ({"treatment": "interlaminar_epidural_steroid", "response": "partial"}, "interlaminar_esi_positive", U),
        ({"treatment": "interlaminar_epidural_steroid", "response": "none"}, "interlaminar_esi_positive", A),
        ({"treatment": "antibiotics"}, "antibiotics_tried", P),
        ({"treatment": "antibiotics"}, "antibiotics_failed", U),
        # the words count for findings that existed before them too
        ({"treatment": "physiotherapy", "response": "none"}, "physiotherapy_failed", P),
        ({"treatment": "medial_branch_block", "response": "complete"}, "mbb_positive", P),
        ({"treatment": "medial_branch_block", "response": "marked"}, "mbb_positive", P),  # 50-100 % meets 50 %
    ],
)
def test_treatment_response_in_words(
    kb: KnowledgeBase, treatment: dict[str, Any], finding: str, expected: Presence
) -> None:
    assert states(kb, prior_treatments=[treatment])[finding] is expected


def test_bone_density(kb: KnowledgeBase) -> None:
    assert states(kb, risk_factors={"dexa_t_score": -3.1})["osteoporosis"] is P
    assert states(kb, risk_factors={"dexa_t_score": -1.8})["osteopenia"] is P
    assert states(kb, risk_factors={"dexa_t_score": -1.8})["low_bone_density"] is P
    assert (
        states(kb, risk_factors={"dexa_t_score": -0.5, "osteoporosis": "absent", "osteopenia": "absent"})[
            "low_bone_density"
        ]
        is U
    )  # no DEXA row or imaging report: imaging could still show it
    assert states(kb, risk_factors={"osteoporosis": "present"})["osteoporosis"] is P


def test_spinopelvic_alignment(kb: KnowledgeBase) -> None:
    state = states(kb, alignment={"pelvic_incidence_deg": 60, "lumbar_lordosis_deg": 35, "pelvic_tilt_deg": 18})
    assert (state["pi_ll_mismatch_10"], state["pi_ll_mismatch_20"], state["pelvic_tilt_20"]) == (P, P, A)
    assert state["sagittal_malalignment_measured"] is P
    state = states(
        kb,
        alignment={
            "pelvic_incidence_deg": 50,
            "lumbar_lordosis_deg": 48,
            "pelvic_tilt_deg": 12,
            "sagittal_vertical_axis_mm": 10,
        },
    )
    assert state["sagittal_malalignment_measured"] is A
    assert states(kb, alignment={"coronal_offset_mm": 35})["coronal_imbalance"] is P


def test_cerebrospinal_fluid(kb: KnowledgeBase) -> None:
    labs = [{"lab": "csf_protein", "value": 1.3}, {"lab": "csf_wbc", "value": 3}]
    state = states(kb, labs=labs)
    assert state["albuminocytologic_dissociation"] is P and state["csf_pleocytosis"] is A
    labs = [
        {"lab": "csf_protein", "value": 2.4},
        {"lab": "csf_wbc", "value": 900},
        {"lab": "csf_glucose_ratio", "value": 0.2},
    ]
    state = states(kb, labs=labs)
    assert state["albuminocytologic_dissociation"] is A
    assert state["csf_pleocytosis"] is P and state["csf_glucose_ratio_low"] is P


def test_operative_details(kb: KnowledgeBase) -> None:
    surgery = {
        "type": "microdiscectomy",
        "levels": ["L4-L5"],
        "level_confirmed": "absent",
        "position": "prone",
        "neuromonitoring": "alert_recovered",
        "dural_tear": "present",
    }
    state = states(kb, index_surgery=surgery)
    assert state["level_not_confirmed"] is P and state["prone_positioning"] is P
    assert state["neuromonitoring_alert"] is P and state["neuromonitoring_alert_persistent"] is A
    assert state["dural_tear"] is P


def test_bleeding_signs(kb: KnowledgeBase) -> None:
    assert states(kb, systemic={"haemoglobin_falling": "present"})["bleeding_signs"] is P
    assert states(kb, systemic={"hypotension": "absent", "haemoglobin_falling": "absent"})["bleeding_signs"] is A
    assert states(kb, systemic={"hypotension": "absent"})["bleeding_signs"] is U
