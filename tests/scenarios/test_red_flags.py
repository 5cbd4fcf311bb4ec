"""Red-flag vignettes written from the guideline or paper each flag cites: every flag, every gap once found in review,
cervical and thoracic operations, and negative controls that must not fire.

Each scenario names its source (a knowledge-base source id, or "expert estimate" where none was found) and asserts
the triage level, a phrase of the flag's action, and the rating of the treatment the flag calls for (its definitive
action, rated on its own merits and never capped by the flag).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.care_results import Label
from tests.conftest import make_case

EXPERT = "expert estimate"  # the flag has no published source; the vignette follows its own note


def early(days: int, **surgery: Any) -> dict[str, Any]:
    """A case `days` after the index operation (default an L5-S1 microdiscectomy on 2026-03-01)."""
    base = {"type": "microdiscectomy", "date": "2026-03-01", "levels": ["L5-S1"], "side": "left"}
    day = 1 + days
    return {
        "assessment_date": f"2026-03-{day:02d}" if day <= 31 else f"2026-04-{day - 31:02d}",
        "index_surgery": {**base, **surgery},
    }


ACDF = {"type": "fusion", "levels": ["C5-C6"], "approach": "anterior"}
TLIF = {"type": "fusion", "levels": ["L4-L5"], "approach": "tlif"}
MRI_FULL = {"modality": "mri", "date": "2026-03-05", "reported_in_full": True}


@dataclass(frozen=True)
class Scenario:
    id: str
    vignette: str
    source: str  # a source id the flag cites, or EXPERT
    case: dict[str, Any]
    flag: str | None  # the flag that must fire; None for a negative control
    level: str | None  # the triage level expected (None: nothing fired)
    action: str = ""  # a phrase the flag's action must contain
    definitive: dict[str, Label] = field(default_factory=dict)  # option -> label it must get
    not_fired: tuple[str, ...] = ()  # flags that must not fire
    urgent: tuple[str, ...] = ()  # tests that must be ordered now
    recorded: tuple[str, ...] = ()  # tests already done: shown, not ordered again


A, U, NO = Label.appropriate, Label.uncertain, Label.inappropriate

SCENARIOS = [
    # ---- suspected cauda equina syndrome: GIRFT 2023 -------------------------------------------------------------
    Scenario(
        "ces_isolated_retention",
        "Painless retention on day 2 after a microdiscectomy, no saddle or leg signs",
        "seh_isolated_retention",
        {**early(2), "red_flags": {"urinary_retention": "present"}},
        "cauda_equina",
        "emergency",
        "Emergency MRI",
        {"emergency_decompression": U},
        urgent=("mri_plain", "bladder_scan"),
    ),
    Scenario(
        "ces_saddle_numbness_late",
        "Saddle numbness 14 months after a discectomy",
        "girft_ces_2023",
        {"red_flags": {"saddle_anaesthesia": "present"}},
        "cauda_equina",
        "emergency",
        "lumbosacral spine",
        {"emergency_decompression": U},
        not_fired=("epidural_haematoma",),
    ),
    Scenario(
        "ces_bilateral_leg_alone",
        "New numbness and weakness in both legs, nothing else",
        "girft_ces_2023",
        {"urgent_signs": {"bilateral_leg_symptoms_new": "present"}},
        "cauda_equina",
        "emergency",
        "bilateral leg symptoms",
        {"emergency_decompression": U},
    ),
    Scenario(
        "ces_bladder_change_alone",
        "New loss of bladder sensation",
        "girft_ces_2023",
        {"red_flags": {"bladder_bowel_change": "present"}},
        "cauda_equina",
        "emergency",
        "Do not wait",
        {"emergency_decompression": U},
    ),
    Scenario(
        "ces_high_residual",
        "A bladder scan shows 450 mL after voiding",
        "girft_ces_2023",
        {"red_flags": {"post_void_residual_ml": 450}},
        "cauda_equina",
        "emergency",
        "Emergency MRI",
        {"emergency_decompression": U},
        recorded=("bladder_scan",),
    ),
    Scenario(
        "ces_compression_on_mri",
        "Saddle numbness; MRI shows the cauda equina compressed by a recurrent disc",
        "girft_ces_2023",
        {
            "red_flags": {"saddle_anaesthesia": "present"},
            "assessment_date": "2026-03-05",
            "studies": [MRI_FULL],
            "diagnostics": [
                {"finding": "cauda_equina_compression", "modality": "mri", "date": "2026-03-05"},
                {"finding": "recurrent_disc_herniation", "modality": "mri", "date": "2026-03-05"},
            ],
        },
        "cauda_equina",
        "emergency",
        "decompression",
        {"emergency_decompression": A},
        recorded=("mri_plain",),
    ),
    Scenario(
        "ces_clean_mri",
        "Saddle numbness; today's MRI, reported in full, shows nothing compressing",
        "girft_ces_2023",
        {"red_flags": {"saddle_anaesthesia": "present"}, "assessment_date": "2026-03-05", "studies": [MRI_FULL]},
        "cauda_equina",
        "emergency",
        "Emergency MRI",
        {"emergency_decompression": NO},
        recorded=("mri_plain",),
    ),
    Scenario(
        "ces_sexual_dysfunction_alone",
        "New erectile dysfunction with back pain, nothing else",
        "girft_ces_2023",
        {"red_flags": {"sexual_dysfunction_new": "present"}},
        "cauda_equina_possible",
        "same_day",
        "unlikely to be cauda equina",
        not_fired=("cauda_equina",),
        urgent=("bladder_scan",),
        recorded=("ex_cauda_equina",),
    ),
    Scenario(
        "ces_sexual_dysfunction_and_saddle",
        "New sexual dysfunction with saddle numbness",
        "girft_ces_2023",
        {"red_flags": {"sexual_dysfunction_new": "present", "saddle_anaesthesia": "present"}},
        "cauda_equina",
        "emergency",
        "Emergency MRI",
        {"emergency_decompression": U},
    ),
    Scenario(
        "control_chronic_bilateral_claudication",
        "Both legs ache on walking, as for years; nothing new",
        "girft_ces_2023",
        {"red_flags": {"bilateral_leg_symptoms": "present"}},
        None,
        None,
        not_fired=("cauda_equina",),
    ),
    # ---- post-operative epidural haematoma ----------------------------------------------------------------------
    Scenario(
        "haematoma_new_deficit_day3",
        "New foot weakness on day 3 after a microdiscectomy",
        "seh_deterioration",
        {**early(3), "exam": {"motor_deficit": "present", "motor_deficit_new": "present"}},
        "epidural_haematoma",
        "emergency",
        "evacuation",
        {"haematoma_evacuation": U},
        urgent=("mri_gadolinium",),
    ),
    Scenario(
        "haematoma_on_mri",
        "Weakness and retention the night after a laminectomy; MRI shows a haematoma",
        "seh_deterioration",
        {
            **early(1, type="laminectomy", levels=["L3-L5"]),
            "red_flags": {"urinary_retention": "present"},
            "exam": {"motor_deficit": "present", "motor_deficit_new": "present"},
            "diagnostics": [{"finding": "epidural_haematoma", "modality": "mri", "date": "2026-03-02"}],
        },
        "epidural_haematoma",
        "emergency",
        "evacuation",
        {"haematoma_evacuation": A},
        recorded=("mri_gadolinium",),
    ),
    Scenario(
        "control_haematoma_ruled_out",
        "New weakness on day 3; MRI reported in full shows no haematoma",
        "seh_deterioration",
        {
            **early(3),
            "exam": {"motor_deficit": "present", "motor_deficit_new": "present"},
            "studies": [{**MRI_FULL, "date": "2026-03-04"}],
        },
        None,
        "emergency",
        not_fired=("epidural_haematoma",),
    ),
    Scenario(
        "control_stable_old_deficit",
        "A foot drop known since surgery, unchanged at 6 months",
        EXPERT,
        {"assessment_date": "2025-07-01", "exam": {"motor_deficit": "present", "motor_deficit_new": "present"}},
        None,
        None,
        not_fired=("epidural_haematoma", "progressive_deficit"),
    ),
    # ---- spinal epidural abscess: Davis 2004, Darouiche 2006, IDSA 2015 -------------------------------------------
    Scenario(
        "abscess_fever_progressive_deficit",
        "Fever and ankles weakening by the day, 7 weeks after surgery",
        "davis_2004",
        {
            **early(49),
            "red_flags": {"fever": "present"},
            "exam": {"motor_deficit": "present", "motor_deficit_progressive": "present"},
        },
        "epidural_abscess",
        "emergency",
        "blood cultures",
        {"infection_management": A},
        urgent=("blood_cultures", "mri_gadolinium"),
    ),
    Scenario(
        "abscess_ivdu_no_fever",
        "Injecting drug user, afebrile, with a new foot drop 10 days after surgery",
        "davis_2004",
        {
            **early(10),
            "red_flags": {"iv_drug_use": "present"},
            "exam": {"motor_deficit": "present", "motor_deficit_new": "present"},
        },
        "epidural_abscess",
        "emergency",
        "Fever is absent in many cases",
        {"infection_management": A},
    ),
    Scenario(
        "abscess_diabetes_progressive_late",
        "Diabetic, afebrile, weakness progressing two years after fusion",
        "darouiche_2006",
        {
            "risk_factors": {"diabetes": "present"},
            "exam": {"motor_deficit": "present", "motor_deficit_progressive": "present"},
        },
        "epidural_abscess",
        "emergency",
        "whole spine",
        {"infection_management": A},
    ),
    Scenario(
        "abscess_on_mri",
        "MRI shows an epidural abscess; no deficit",
        "idsa_nvo_2015",
        {
            "assessment_date": "2026-03-05",
            "studies": [MRI_FULL],
            "diagnostics": [{"finding": "epidural_abscess", "modality": "mri", "date": "2026-03-05"}],
        },
        "epidural_abscess",
        "emergency",
        "drainage",
        {"infection_management": A, "emergency_decompression": U},
        recorded=("mri_gadolinium",),
    ),
    Scenario(
        "control_abscess_ruled_out",
        "Fever and new weakness; today's MRI in full shows no abscess",
        "idsa_nvo_2015",
        {
            **early(49),
            "red_flags": {"fever": "present"},
            "exam": {"motor_deficit": "present", "motor_deficit_progressive": "present"},
            "studies": [{**MRI_FULL, "date": "2026-04-19"}],
        },
        None,
        "emergency",
        not_fired=("epidural_abscess",),
    ),
    Scenario(
        "control_ivdu_without_symptoms",
        "Injecting drug use, no pain at rest, no fever, no deficit",
        "davis_2011",
        {"red_flags": {"iv_drug_use": "present"}, "pain": {"night_or_rest_pain": "absent"}},
        None,
        None,
        not_fired=("epidural_abscess", "spinal_infection_risk"),
    ),
    # ---- post-operative infection: IDSA 2015, Thelander 1992, Mayo 2018 ------------------------------------------
    Scenario(
        "infection_fever_day7",
        "Fever and back pain a week after a discectomy, nothing else",
        "mayo_2018_fever",
        {**early(7), "red_flags": {"fever": "present"}},
        "wound_infection_or_discitis",
        "same_day",
        "read against the normal post-operative course",
        {"infection_management": U},
        urgent=("crp_esr_wbc", "blood_cultures", "mri_gadolinium"),
    ),
    Scenario(
        "control_fever_day2",
        "A temperature of 38.3 on day 2 after a discectomy, nothing else",
        "mayo_2018_fever",
        {**early(2), "exam": {"temperature_c": 38.3}},
        None,
        None,
        not_fired=("wound_infection_or_discitis",),
    ),
    Scenario(
        "infection_red_wound_alone",
        "A red, warm wound on day 10, afebrile",
        "postop_infection_review",
        {**early(10), "exam": {"wound": "erythema"}},
        "wound_infection_or_discitis",
        "same_day",
        "Same-day review",
        {"infection_management": U},
        urgent=("blood_cultures",),
    ),
    Scenario(
        "infection_crp_120_two_months",
        "CRP 120 mg/L two months after surgery, nothing else",
        "thelander_1992",
        {**early(60), "labs": [{"lab": "crp", "value": 120, "date": "2026-04-30"}]},
        "wound_infection_or_discitis",
        "same_day",
        "CRP",
        {"infection_management": U},
        recorded=("crp_esr_wbc",),
    ),
    Scenario(
        "crp_40_alone_three_weeks",
        "CRP 40 mg/L three weeks after a fusion, nothing else: an infection work-up within days, not a same-day review",
        "thelander_1992",
        {**early(21, **TLIF), "labs": [{"lab": "crp", "value": 40}]},
        "likely_spinal_infection",
        "within_days",
        "infection work-up within days",
        not_fired=("wound_infection_or_discitis",),
    ),
    Scenario(
        "crp_40_with_fever_three_weeks",
        "CRP 40 mg/L and a fever of 38.4 three weeks after a fusion",
        "thelander_1992",
        {**early(21, **TLIF), "labs": [{"lab": "crp", "value": 40}], "exam": {"temperature_c": 38.4}},
        "wound_infection_or_discitis",
        "same_day",
        "two sets of blood cultures",
        {"infection_management": A},
        urgent=("blood_cultures",),
    ),
    Scenario(
        "infection_crp_with_night_pain",
        "CRP 30 mg/L and new pain at rest, three weeks after surgery",
        "thelander_1992",
        {**early(21), "labs": [{"lab": "crp", "value": 30}], "pain": {"night_or_rest_pain": "present"}},
        "wound_infection_or_discitis",
        "same_day",
        "two sets of blood cultures (whether or not febrile)",
        {"infection_management": U},
        urgent=("blood_cultures", "mri_gadolinium"),  # afebrile: IDSA 2015 takes them in every suspected case
    ),
    Scenario(
        "infection_discitis_on_mri",
        "MRI shows L5-S1 discitis six weeks after a discectomy",
        "idsa_nvo_2015",
        {
            **early(42),
            "studies": [{**MRI_FULL, "date": "2026-04-12"}],
            "diagnostics": [{"finding": "discitis_osteomyelitis", "modality": "mri", "date": "2026-04-12"}],
        },
        "wound_infection_or_discitis",
        "same_day",
        "biopsy",
        {"infection_management": A},
    ),
    Scenario(
        "infection_risk_ivdu_rest_pain",
        "Injecting drug user with severe pain at rest, afebrile",
        "davis_2011",
        {"red_flags": {"iv_drug_use": "present"}, "pain": {"night_or_rest_pain": "present"}},
        "spinal_infection_risk",
        "same_day",
        "CRP and ESR",
        {"infection_management": U},
        urgent=("crp_esr_wbc", "mri_gadolinium"),
    ),
    Scenario(
        "infection_risk_bacteraemia",
        "S. aureus bacteraemia last month, now constant back pain at night",
        "idsa_nvo_2015",
        {"urgent_signs": {"recent_bacteraemia": "present"}, "pain": {"night_or_rest_pain": "present"}},
        "spinal_infection_risk",
        "same_day",
        "gadolinium",
        {"infection_management": U},
    ),
    Scenario(
        "control_diabetic_night_pain_late",
        "Diabetic with burning feet at night two years after surgery",
        "davis_2011",
        {"risk_factors": {"diabetes": "present"}, "pain": {"night_or_rest_pain": "present"}},
        None,
        None,
        not_fired=("spinal_infection_risk",),
    ),
    Scenario(
        "infection_risk_diabetes_early",
        "Diabetic with severe night pain six weeks after a discectomy",
        "davis_2011",
        {**early(42), "risk_factors": {"diabetes": "present"}, "pain": {"night_or_rest_pain": "present"}},
        "spinal_infection_risk",
        "same_day",
        "CRP and ESR",
        {"infection_management": U},
    ),
    # ---- sepsis: Surviving Sepsis Campaign 2021 --------------------------------------------------------------------
    Scenario(
        "sepsis_rigors_hypotension",
        "Rigors, hypotension and confusion ten days after a fusion",
        "ssc_2021",
        {**early(10, **TLIF), "red_flags": {"sepsis_signs": "present", "fever": "present"}},
        "sepsis",
        "emergency",
        "within the hour",
        {"infection_management": A},
        urgent=("blood_cultures", "sepsis_bloods"),
    ),
    Scenario(
        "csf_leak_meningism",
        "Positional headache, clear fluid and a stiff neck nine days after a laminectomy",
        EXPERT,
        {
            **early(9, type="laminectomy"),
            "pain": {"positional_headache": "present"},
            "red_flags": {"clear_fluid_leak": "present", "meningism": "present"},
        },
        "csf_leak_with_meningism",
        "emergency",
        "meningitis",
        {"infection_management": A, "dural_repair": A},
    ),
    Scenario(
        "meningitis_dural_tear_day5",
        "Fever and headache on day 5 after a dural tear during an endoscopic decompression, no leak seen",
        "idsa_meningitis_2017",
        {
            **early(5, type="laminectomy", dural_tear="present"),
            "red_flags": {"fever": "present"},
            "systemic": {"headache": "present"},
        },
        "csf_leak_with_meningism",
        "emergency",
        "empirical intravenous antibiotics without delay",
        {"infection_management": A},
        urgent=("blood_cultures",),
    ),
    Scenario(
        "meningitis_dural_tear_confused",
        "A temperature of 38.6 and new confusion a week after a fusion with a repaired dural tear",
        "idsa_meningitis_2017",
        {
            **early(7, **TLIF, dural_tear="present"),
            "exam": {"temperature_c": 38.6},
            "systemic": {"reduced_consciousness": "present"},
        },
        "csf_leak_with_meningism",
        "emergency",
        "blood cultures",
    ),
    Scenario(
        "meningitis_dural_tear_no_dates",
        "Fever and vomiting after a laminectomy with a dural tear, no dates recorded",
        "idsa_meningitis_2017",
        {
            "index_surgery": {"type": "laminectomy", "levels": ["L4-L5"], "dural_tear": "present", "date": None},
            "red_flags": {"fever": "present"},
            "systemic": {"vomiting": "present"},
        },
        "csf_leak_with_meningism",
        "emergency",
        "meningitis",
    ),
    Scenario(
        "control_dural_tear_headache_afebrile",
        "Headache on day 5 after a dural tear, no fever: not meningitis on these findings",
        "idsa_meningitis_2017",
        {
            **early(5, type="laminectomy", dural_tear="present"),
            "red_flags": {"fever": "absent"},
            "systemic": {"headache": "present"},
        },
        None,
        None,
        not_fired=("csf_leak_with_meningism",),
    ),
    Scenario(
        "control_dural_tear_years_ago_fever",
        "Fever and headache two years after a laminectomy with a dural tear, no leak or swelling",
        "idsa_meningitis_2017",
        {
            "assessment_date": "2026-03-01",
            "index_surgery": {
                "type": "laminectomy", "date": "2024-03-01", "levels": ["L4-L5"], "dural_tear": "present"
            },
            "red_flags": {"fever": "present", "clear_fluid_leak": "absent"},
            "systemic": {"headache": "present"},
        },
        None,
        None,
        not_fired=("csf_leak_with_meningism",),
    ),
    Scenario(
        "leaking_wound_day10",
        "Serous ooze from the wound ten days after a discectomy, afebrile",
        EXPERT,
        {**early(10), "red_flags": {"wound_drainage": "present"}},
        "leaking_wound",
        "same_day",
        "culture any discharge",
        urgent=("wound_culture",),
    ),
    # ---- malignancy: Downie 2013, NICE NG234 -----------------------------------------------------------------------
    Scenario(
        "malignancy_history_alone",
        "Treated breast cancer; otherwise a quiet review",
        "downie_2013",
        {"red_flags": {"cancer_history": "present"}},
        "possible_malignancy",
        "within_days",
        "whole spine",
        urgent=("mri_gadolinium", "crp_esr_wbc"),
    ),
    Scenario(
        "malignancy_weight_loss_night_pain",
        "Aged 55, weight loss and pain at night",
        EXPERT,
        {"patient": {"age": 55}, "red_flags": {"weight_loss": "present"}, "pain": {"night_or_rest_pain": "present"}},
        "possible_malignancy",
        "within_days",
        "gadolinium",
    ),
    Scenario(
        "mscc_cancer_with_deficit",
        "Known myeloma, new leg weakness getting worse",
        "nice_ng234",
        {
            "red_flags": {"cancer_history": "present"},
            "exam": {"motor_deficit": "present", "motor_deficit_progressive": "present"},
        },
        "metastatic_cord_compression",
        "emergency",
        "MSCC coordinator",
        {"emergency_decompression": U},
    ),
    Scenario(
        "malignancy_metastasis_on_mri",
        "MRI shows an L2 metastasis; no deficit",
        "nice_ng234",
        {
            "assessment_date": "2026-03-05",
            "studies": [MRI_FULL],
            "diagnostics": [{"finding": "metastasis_or_tumour", "modality": "mri", "date": "2026-03-05"}],
        },
        "possible_malignancy",
        "within_days",
        "NICE NG234",
        not_fired=("metastatic_cord_compression",),
        recorded=("mri_gadolinium",),
    ),
    # ---- progressive deficit: the decompression it calls for is not capped ----------------------------------------
    Scenario(
        "progressive_deficit_recurrent_disc",
        "Foot drop worsening over a fortnight; recurrent L4-L5 disc",
        EXPERT,
        {
            "index_surgery": {"type": "microdiscectomy", "date": "2025-01-01", "levels": ["L4-L5"]},
            "course": {"pain_free_interval_months": 8, "pain_compared_with_before": "same_as_before"},
            "pain": {"back_share_percent": 20, "dermatomal": "present", "side": "left"},
            "exam": {"motor_deficit": "present", "motor_deficit_progressive": "present"},
            "assessment_date": "2026-03-05",
            "studies": [MRI_FULL],
            "diagnostics": [
                {
                    "finding": "recurrent_disc_herniation",
                    "modality": "mri",
                    "level": "L4-L5",
                    "side": "left",
                    "date": "2026-03-05",
                }
            ],
        },
        "progressive_deficit",
        "emergency",
        "same-hour",
        {"revision_discectomy": A, "emergency_decompression": A},
    ),
    # ---- implants -------------------------------------------------------------------------------------------------
    Scenario(
        "misplaced_screw_on_ct",
        "New L5 pain on day 3 after a TLIF; CT shows a medial pedicle breach",
        EXPERT,
        {
            **early(3, **TLIF),
            "course": {"pain_compared_with_before": "different"},
            "pain": {"dermatomal": "present"},
            "diagnostics": [{"finding": "screw_malposition", "modality": "ct", "level": "L4-L5", "date": "2026-03-04"}],
        },
        "misplaced_implant",
        "same_day",
        "CT of the instrumented levels",
        {"implant_revision": A},
        recorded=("ct_implant",),
    ),
    Scenario(
        "displaced_screw_new_deficit",
        "A breaching screw and a new foot drop on day 3 after a TLIF",
        EXPERT,
        {
            **early(3, **TLIF),
            "exam": {"motor_deficit": "present", "motor_deficit_new": "present"},
            "diagnostics": [{"finding": "screw_malposition", "modality": "ct", "date": "2026-03-04"}],
        },
        "implant_with_new_deficit",
        "emergency",
        "revision",
        {"implant_revision": A},
    ),
    Scenario(
        "misplaced_implant_unimaged",
        "New dermatomal leg pain ten days after a TLIF, no scan yet",
        EXPERT,
        {**early(10, **TLIF), "course": {"pain_compared_with_before": "different"}, "pain": {"dermatomal": "present"}},
        "misplaced_implant",
        "same_day",
        "screw and cage position",
        {"implant_revision": U},
        urgent=("ct_implant",),
    ),
    Scenario(
        "rod_fracture",
        "A broken rod on plain films two years after an L3-S1 fusion: revision waits for the CT showing the non-union",
        EXPERT,
        {
            "index_surgery": {"type": "fusion", "date": "2024-01-01", "levels": ["L3-S1"], "approach": "tlif"},
            "diagnostics": [{"finding": "rod_fracture", "modality": "xray"}],
        },
        "implant_breakage",
        "within_days",
        "non-union",
        {"revision_fusion": U},
        urgent=("ct_implant", "crp_esr_wbc"),
        not_fired=("fracture_or_implant_failure",),
    ),
    Scenario(
        "rod_fracture_nonunion_on_ct",
        "A broken rod two years after an L3-S1 fusion, over a non-union that CT shows at L4-L5: a surgical target",
        EXPERT,
        {
            "index_surgery": {"type": "fusion", "date": "2024-01-01", "levels": ["L3-S1"], "approach": "tlif"},
            "diagnostics": [
                {"finding": "rod_fracture", "modality": "xray", "level": "L4-L5"},
                {"finding": "rod_fracture", "modality": "ct", "level": "L4-L5"},
                {"finding": "pseudarthrosis", "modality": "ct", "level": "L4-L5"},
            ],
        },
        "implant_breakage",
        "within_days",
        "non-union",
        {"revision_fusion": A},
        urgent=("crp_esr_wbc",),
        recorded=("ct_implant",),
        not_fired=("fracture_or_implant_failure",),
    ),
    Scenario(
        "rod_fracture_after_fall",
        "A rod found broken after a fall, a year after an L4-S1 fusion",
        "downie_2013",
        {
            "index_surgery": {"type": "fusion", "date": "2025-01-01", "levels": ["L4-S1"], "approach": "tlif"},
            "course": {"fall_or_injury_since_surgery": "present"},
            "diagnostics": [{"finding": "rod_fracture", "modality": "xray"}],
        },
        "fracture_or_implant_failure",
        "same_day",
        "restrict loading",
        {"fracture_care": A},
        urgent=("ct_implant",),
    ),
    Scenario(
        "vertebral_fracture_on_ct",
        "CT shows a fracture of the vertebra above an L4-L5 fusion",
        "downie_2013",
        {
            "index_surgery": {"type": "fusion", "date": "2025-01-01", "levels": ["L4-L5"], "approach": "tlif"},
            "diagnostics": [{"finding": "vertebral_fracture", "modality": "ct", "level": "L3-L4"}],
        },
        "fracture_or_implant_failure",
        "same_day",
        "restrict loading",
        {"fracture_care": A},
        recorded=("ct_implant",),
    ),
    Scenario(
        "fall_with_osteoporosis",
        "An osteoporotic woman fell on her buttocks after a fusion",
        EXPERT,
        {
            "course": {"fall_or_injury_since_surgery": "present"},
            "risk_factors": {"osteoporosis": "present"},
            "index_surgery": {"type": "fusion", "date": "2025-01-01", "levels": ["L3-S1"], "approach": "tlif"},
        },
        "fracture_or_implant_failure",
        "same_day",
        "CT of the operated segments",
        urgent=("ct_implant",),
    ),
    # ---- vascular: Kulkarni 2003, Wood 2010, Mobbs 2016, Deng 2020 ------------------------------------------------
    Scenario(
        "limb_ischaemia_after_alif",
        "A cold, pulseless left leg the day after an L4-L5 ALIF",
        "kulkarni_2003",
        {**early(1, type="fusion", levels=["L4-L5"], approach="alif"), "urgent_signs": {"limb_ischaemia": "present"}},
        "acute_limb_ischaemia",
        "emergency",
        "thrombectomy",
        {"vascular_emergency_care": A},
        urgent=("ct_angiography",),
    ),
    Scenario(
        "bleeding_after_xlif",
        "Hypotension and tachycardia on day 2 after an L3-L4 XLIF",
        "mobbs_2016",
        {
            **early(2, type="fusion", levels=["L3-L4"], approach="lateral"),
            "urgent_signs": {"haemodynamic_instability": "present"},
        },
        "retroperitoneal_bleeding",
        "emergency",
        "call the vascular surgeon now",
        {"vascular_emergency_care": A},
        urgent=("ct_angiography", "fbc_crossmatch"),
    ),
    Scenario(
        "retroperitoneal_haematoma_on_ct",
        "CT shows a psoas haematoma after a PLIF",
        "deng_2020",
        {
            **early(7, type="fusion", levels=["L4-L5"], approach="plif"),
            "diagnostics": [{"finding": "retroperitoneal_haematoma", "modality": "ct", "date": "2026-03-08"}],
        },
        "retroperitoneal_bleeding",
        "emergency",
        "embolisation",
        {"vascular_emergency_care": U},
        recorded=("ct_angiography",),
    ),
    Scenario(
        "abdominal_pain_after_plif",
        "Abdominal pain and worsening leg pain a week after a PLIF",
        "deng_2020",
        {**early(7, type="fusion", levels=["L4-L5"], approach="plif"), "pain": {"abdominal_pain": "present"}},
        "abdominal_pain_after_interbody",
        "same_day",
        "contrast CT of the abdomen",
        urgent=("ct_angiography", "fbc_crossmatch"),
    ),
    Scenario(
        "abdominal_pain_day4_after_discectomy",
        "Abdominal pain alone on day 4 after a microdiscectomy: a same-day surgical review and CT, not an emergency",
        "visceral_perforation_review_2012",
        {**early(4), "pain": {"abdominal_pain": "present"}},
        "likely_iatrogenic_visceral_injury",
        "same_day",
        "contrast CT of the abdomen",
        not_fired=("abdominal_pain_after_interbody", "retroperitoneal_bleeding"),
        urgent=("ct_abdomen_pelvis",),
    ),
    Scenario(
        "abdominal_pain_day2_after_discectomy",
        "Abdominal pain on day 2 after a microdiscectomy: a bowel perforation shows itself in the first days",
        "visceral_perforation_review_2012",
        {**early(2), "pain": {"abdominal_pain": "present"}},
        "likely_iatrogenic_visceral_injury",
        "emergency",
        "surgical review now",
        urgent=("ct_abdomen_pelvis",),
    ),
    Scenario(
        "abdominal_pain_day4_after_discectomy_hypotension",
        "Abdominal pain and low blood pressure on day 4 after a microdiscectomy",
        "vascular_laceration_review_2020",
        {**early(4), "pain": {"abdominal_pain": "present"}, "systemic": {"hypotension": "present"}},
        "likely_iatrogenic_vascular_injury",
        "emergency",
        "CT angiography",
        urgent=("ct_angiography",),
    ),
    Scenario(
        "control_abdominal_pain_two_months_after_discectomy",
        "Abdominal pain two months after a microdiscectomy, nothing else",
        EXPERT,
        {**early(60), "pain": {"abdominal_pain": "present"}},
        None,
        None,
        not_fired=("likely_iatrogenic_visceral_injury", "likely_iatrogenic_vascular_injury"),
    ),
    # ---- acute abdomen: Siasios 2018, Sen-Oran 2012, Rustagi 2019 --------------------------------------------------
    Scenario(
        "acute_abdomen_guarding_day10_after_discectomy",
        "Abdominal pain with guarding on day 10 after a posterior lumbar microdiscectomy",
        "siasios_2018",
        {**early(10), "pain": {"abdominal_pain": "present"}, "systemic": {"peritoneal_signs": "present"}},
        "acute_abdomen",
        "emergency",
        "Emergency surgical review now",
        {"emergency_abdominal_surgery": A},
        urgent=("ct_abdomen_pelvis", "acute_abdomen_bloods"),
    ),
    Scenario(
        "acute_abdomen_guarding_day2_after_xlif",
        "A tender, guarded abdomen on day 2 after an L3-L4 XLIF",
        "bowel_injury_lateral_2019",
        {
            **early(2, type="fusion", levels=["L3-L4"], approach="lateral"),
            "systemic": {"peritoneal_signs": "present"},
        },
        "acute_abdomen",
        "emergency",
        "contrast CT of the abdomen and pelvis",
        {"emergency_abdominal_surgery": A},
        urgent=("ct_abdomen_pelvis", "acute_abdomen_bloods"),
    ),
    Scenario(
        "acute_abdomen_distension_vomiting_day5_after_decompression",
        "Abdominal pain, a distended abdomen and vomiting on day 5 after a laminectomy",
        "visceral_perforation_review_2012",
        {
            **early(5, type="laminectomy", levels=["L4-L5"]),
            "pain": {"abdominal_pain": "present"},
            "systemic": {"abdominal_distension": "present", "vomiting": "present"},
        },
        "acute_abdomen",
        "emergency",
        "nil by mouth",
        {"emergency_abdominal_surgery": A},
        urgent=("ct_abdomen_pelvis",),
    ),
    Scenario(
        "control_abdominal_pain_two_months_after_fusion",
        "Abdominal pain alone two months after a posterior fusion: asked about, not an emergency",
        EXPERT,
        {**early(60, **TLIF), "pain": {"abdominal_pain": "present"}},
        None,
        None,
        not_fired=("acute_abdomen", "likely_iatrogenic_visceral_injury"),
    ),
    Scenario(
        "control_late_instability_after_alif",
        "Low blood pressure from a drug two years after an ALIF",
        "wood_2010",
        {
            "index_surgery": {"type": "fusion", "date": "2024-01-01", "levels": ["L5-S1"], "approach": "alif"},
            "urgent_signs": {"haemodynamic_instability": "present"},
        },
        None,
        None,
        not_fired=("retroperitoneal_bleeding",),
    ),
    Scenario(
        "aneurysm_pulsatile_mass",
        "Back and flank pain with a pulsatile abdominal mass",
        EXPERT,
        {"exam": {"pulsatile_abdominal_mass": "present"}},
        "symptomatic_aortic_aneurysm",
        "emergency",
        "CT angiography",
        {"vascular_emergency_care": A},
        urgent=("ct_angiography",),
    ),
    # ---- venous thromboembolism: NICE NG158, Cheng 2010 -----------------------------------------------------------
    Scenario(
        "dvt_signs_day10",
        "A swollen, tender calf ten days after a fusion",
        "nice_ng158",
        {**early(10, **TLIF), "urgent_signs": {"dvt_signs": "present"}},
        "deep_vein_thrombosis",
        "same_day",
        "within 4 hours",
        {"vte_anticoagulation": U},
        urgent=("leg_vein_ultrasound",),
    ),
    Scenario(
        "pe_signs_day10",
        "Sudden breathlessness and pleuritic pain ten days after surgery",
        "nice_ng158",
        {**early(10), "urgent_signs": {"pe_signs": "present"}},
        "pulmonary_embolism",
        "emergency",
        "CT pulmonary angiography",
        {"vte_anticoagulation": U},
        urgent=("ctpa",),
    ),
    Scenario(
        "dvt_confirmed",
        "Ultrasound shows a popliteal DVT two weeks after surgery",
        "cheng_2010",
        {
            **early(14),
            "urgent_signs": {"dvt_signs": "present"},
            "diagnostics": [{"finding": "deep_vein_thrombosis", "modality": "ultrasound", "date": "2026-03-15"}],
        },
        "deep_vein_thrombosis",
        "same_day",
        "spinal surgeon",
        {"vte_anticoagulation": A},
        recorded=("leg_vein_ultrasound",),
    ),
    Scenario(
        "dvt_recorded_late",
        "A swollen painful leg recorded two years after surgery still counts",
        "nice_ng158",
        {"urgent_signs": {"dvt_signs": "present"}},
        "deep_vein_thrombosis",
        "same_day",
        "Wells score",
    ),
    # ---- cervical and thoracic: Palumbo 2012, Bazaz 2002, C5 palsy meta-analysis -----------------------------------
    Scenario(
        "acdf_stridor_day1",
        "Neck swelling and stridor the evening after a C5-C6 ACDF",
        "palumbo_2012",
        {**early(1, **ACDF), "urgent_signs": {"neck_swelling": "present", "airway_compromise": "present"}},
        "airway_haematoma_after_acdf",
        "emergency",
        "open the wound at the bedside",
        {"haematoma_evacuation": A},
        not_fired=("cauda_equina",),
        urgent=("ct_neck",),
    ),
    Scenario(
        "acdf_neck_swelling_day7",
        "Sudden left neck swelling on day 7 after an ACDF",
        "palumbo_2012",
        {**early(7, **ACDF), "urgent_signs": {"neck_swelling": "present"}},
        "airway_haematoma_after_acdf",
        "emergency",
        "Airway emergency",
        {"haematoma_evacuation": A},
    ),
    Scenario(
        "acdf_dysphagia_fever",
        "Painful swallowing and fever ten days after an ACDF",
        "bazaz_2002",
        {**early(10, **ACDF), "urgent_signs": {"dysphagia_new": "present"}, "red_flags": {"fever": "present"}},
        "dysphagia_after_acdf",
        "same_day",
        "oesophageal injury",
        {"infection_management": U},
        urgent=("ct_neck",),
    ),
    Scenario(
        "control_acdf_dysphagia_alone",
        "Mild difficulty swallowing three weeks after an ACDF, afebrile",
        "bazaz_2002",
        {**early(21, **ACDF), "urgent_signs": {"dysphagia_new": "present"}},
        None,
        None,
        not_fired=("dysphagia_after_acdf", "airway_haematoma_after_acdf"),
    ),
    Scenario(
        "c5_palsy_after_laminoplasty",
        "Cannot lift the right arm on day 2 after a C3-C7 decompression",
        "c5_palsy_meta_2015",
        {
            **early(2, type="laminectomy", levels=["C3-C7"], approach="posterior"),
            "urgent_signs": {"shoulder_abduction_weakness_new": "present"},
        },
        "c5_palsy",
        "same_day",
        "C4-C5",
        urgent=("mri_plain",),
    ),
    Scenario(
        "cervical_myelopathy_worse",
        "Hands clumsier and gait unsteady six months after a C4-C6 ACDF",
        EXPERT,
        {
            "index_surgery": {"type": "fusion", "date": "2025-09-01", "levels": ["C4-C6"], "approach": "anterior"},
            "urgent_signs": {"myelopathy_signs_new": "present"},
        },
        "cord_compression",
        "emergency",
        "cervical or thoracic spine",
        {"emergency_decompression": U},
        not_fired=("cauda_equina",),
        urgent=("mri_plain",),
    ),
    Scenario(
        "cervical_retention",
        "Urinary retention on day 2 after a C5-C6 ACDF",
        EXPERT,
        {**early(2, **ACDF), "red_flags": {"urinary_retention": "present"}},
        "cord_compression",
        "emergency",
        "cord",
        {"emergency_decompression": U},
        not_fired=("cauda_equina",),
    ),
    Scenario(
        "cervical_abscess",
        "Fever and a new arm weakness two weeks after an ACDF",
        "davis_2004",
        {
            **early(14, **ACDF),
            "red_flags": {"fever": "present"},
            "exam": {"motor_deficit": "present", "motor_deficit_new": "present"},
        },
        "epidural_abscess",
        "emergency",
        "whole spine",
        {"infection_management": A},
        not_fired=("cauda_equina",),
    ),
    Scenario(
        "thoracic_bilateral_weakness",
        "New weakness of both legs a week after a T10-T11 decompression",
        EXPERT,
        {**early(7, type="laminectomy", levels=["T10-T11"]), "urgent_signs": {"bilateral_leg_symptoms_new": "present"}},
        "cord_compression",
        "emergency",
        "Emergency MRI",
        {"emergency_decompression": U},
        not_fired=("cauda_equina",),
    ),
    # ---- suicide risk: Simon 2013, NICE NG222, NICE NG225 ---------------------------------------------------------
    # ---- a new deficit when the operation's date is not known: an unknown interval never silences it ----------------
    Scenario(
        "new_arm_weakness_after_fusion_no_dates",
        "New weakness and tingling in both arms after an L4-L5 fusion, no dates recorded",
        "chou_2007",
        {
            "index_surgery": {"type": "fusion", "levels": ["L4-L5"], "date": None},
            "exam": {"motor_deficit": "present", "motor_deficit_new": "present", "arm_signs": "present"},
        },
        "new_deficit_timing_unknown",
        "same_day",
        "find out when the operation was",
        urgent=("mri_plain",),
    ),
    Scenario(
        "arm_numbness_after_lumbar_operation_no_dates",
        "Numbness in an arm after a lumbar decompression, no dates, leg strength not recorded",
        "chou_2007",
        {"index_surgery": {"type": "laminectomy", "levels": ["L4-L5"], "date": None}, "exam": {"arm_signs": "present"}},
        "new_deficit_timing_unknown",
        "same_day",
        "brachial plexus",
    ),
    Scenario(
        "new_weakness_day5_known_timing",
        "New foot weakness on day 5 after a microdiscectomy: the timing is known, the emergency rule applies",
        "chou_2007",
        {**early(5), "exam": {"motor_deficit": "present", "motor_deficit_new": "present"}},
        "progressive_deficit",
        "emergency",
        "same-hour spinal surgical review",
        not_fired=("new_deficit_timing_unknown",),
    ),
    Scenario(
        "control_stable_deficit_six_months",
        "Weakness new since a microdiscectomy six months ago, known not to be progressing",
        "chou_2007",
        {
            "assessment_date": "2026-09-01",
            "index_surgery": {"type": "microdiscectomy", "date": "2026-03-01", "levels": ["L5-S1"], "side": "left"},
            "exam": {"motor_deficit": "present", "motor_deficit_new": "present", "motor_deficit_progressive": "absent"},
        },
        None,
        None,
        not_fired=("new_deficit_timing_unknown", "progressive_deficit"),
    ),
    Scenario(
        "suicidal_thoughts_item9",
        "PHQ-9 of 19 with thoughts of being better off dead",
        "simon_2013",
        {"psychosocial": {"phq9_item9": 2, "phq9_total": 19}},
        "suicidal_thoughts",
        "same_day",
        "crisis contacts",
        {"crisis_mental_health_care": A, "depression_care": A, "pain_psychology": A},
    ),
    Scenario(
        "suicide_plan",
        "Thoughts of suicide and a stated plan",
        "nice_ng225",
        {"psychosocial": {"phq9_item9": 3, "phq9_total": 22}, "urgent_signs": {"suicidal_plan_or_intent": "present"}},
        "suicide_plan_or_intent",
        "emergency",
        "do not leave the person alone",
        {"crisis_mental_health_care": A, "psychiatric_referral": A},
    ),
    Scenario(
        "control_item9_zero",
        "PHQ-9 of 8, item 9 answered 0",
        "nice_ng222",
        {"psychosocial": {"phq9_item9": 0, "phq9_total": 8}},
        None,
        None,
        not_fired=("suicidal_thoughts", "suicide_plan_or_intent"),
    ),
]


def _by(a: Assessment, option: str) -> Label:
    return next(r.label for r in a.options.options if r.id == option)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_red_flag_scenario(scenario: Scenario, kb: KnowledgeBase) -> None:
    a = assess(make_case(**scenario.case), kb)
    fired = {f.flag: f for f in a.triage.fired}
    assert (a.triage.level.value if a.triage.level else None) == scenario.level, scenario.vignette
    for flag_id in scenario.not_fired:
        assert flag_id not in fired, f"{flag_id} must not fire: {scenario.vignette}"
    if scenario.flag is None:
        return
    assert scenario.flag in fired, f"{scenario.flag} did not fire: {scenario.vignette}"
    flag = fired[scenario.flag]
    assert scenario.action.lower() in flag.action.lower(), flag.action
    if scenario.source == EXPERT:
        assert flag.evidence.value == "expert_estimate" or flag.sources
    else:
        assert scenario.source in flag.sources, f"{scenario.flag} does not cite {scenario.source}"
    for option, label in scenario.definitive.items():
        assert _by(a, option) is label, f"{option}: {_by(a, option).value}, expected {label.value}"
    urgent = {t.test for t in a.workup.urgent}
    assert set(scenario.urgent) <= urgent, f"urgent {sorted(urgent)}"
    recorded = {r.test for r in a.workup.recorded}
    assert set(scenario.recorded) <= recorded, f"recorded {sorted(recorded)}"
    assert not set(scenario.recorded) & urgent, "a test with a recorded result is ordered again"


def test_a_suspected_bowel_injury_leaves_its_surgical_care_open(kb: KnowledgeBase) -> None:
    """Abdominal pain, distension and vomiting on day 2 after an XLIF, with no peritoneal signs recorded: the
    differential raises a visceral injury emergency; the general surgical care it calls for is open (uncertain), and
    becomes appropriate with guarding."""
    case = {
        **early(2, type="fusion", levels=["L3-L4"], approach="lateral"),
        "pain": {"abdominal_pain": "present"},
        "systemic": {"vomiting": "present"},
    }
    a = assess(make_case(**case), kb)
    assert "likely_iatrogenic_visceral_injury" in {f.flag for f in a.triage.fired}
    assert _by(a, "emergency_abdominal_surgery") is U
    guarded = assess(make_case(**{**case, "systemic": {"peritoneal_signs": "present"}}), kb)
    assert "acute_abdomen" in {f.flag for f in guarded.triage.fired}
    assert _by(guarded, "emergency_abdominal_surgery") is A


def test_the_suite_covers_every_flag_and_enough_scenarios(kb: KnowledgeBase) -> None:
    flags = {s.flag for s in SCENARIOS if s.flag}
    assert {f.id for f in kb.red_flags} <= flags
    assert len(SCENARIOS) >= 60
    assert sum(1 for s in SCENARIOS if s.flag is None) >= 8


def test_resuscitation_comes_before_another_emergency_s_scan(kb: KnowledgeBase) -> None:
    """Bleeding after an XLIF with new leg weakness: resuscitate and call the vascular surgeon before the MRI."""
    case = make_case(
        **early(2, type="fusion", levels=["L3-L4"], approach="lateral"),
        urgent_signs={"haemodynamic_instability": "present"},
        exam={"motor_deficit": "present", "motor_deficit_new": "present"},
    )
    fired = [f.flag for f in assess(case, kb).triage.fired]
    assert {"retroperitoneal_bleeding", "epidural_haematoma"} <= set(fired), fired
    assert fired.index("retroperitoneal_bleeding") < fired.index("epidural_haematoma"), fired
    bleeding = next(f for f in assess(case, kb).triage.fired if f.flag == "retroperitoneal_bleeding")
    for phrase in ("group and cross-match", "stop or reverse anticoagulation", "intravenous access"):
        assert phrase in bleeding.action
