"""The presentation vocabulary: each field takes its allowed values, and bad input names the field and the reason."""

from __future__ import annotations

import pytest

from fbss.case.model import Intensity, Presence
from fbss.case.parse import parse_case
from fbss.case.vocabulary import MODALITY_LABEL, Modality, Reflex, TreatmentResponse
from fbss.errors import CaseError
from tests.case.test_validation import MINIMAL, with_


def test_a_clinician_can_record_the_presentation_in_words() -> None:
    data = with_(
        "pain",
        {
            "back_pain": "present",
            "back_intensity": "severe",
            "leg_pain": "absent",
            "shooting": "present",
            "onset": "sudden",
            "trend": "progressive",
            "worse_bending_forward": "present",
        },
    )
    data["exam"] = {
        "reflexes": [{"reflex": "achilles", "side": "left", "state": "absent"}],
        "crossed_straight_leg_raise": "present",
        "peripheral_nerve_deficit": "present",
        "peripheral_nerve": "common_peroneal",
    }
    data["function"] = {"walking_distance_m": 100, "odi_percent": 38, "rmdq_total": 14, "lefs_total": 30}
    data["work"] = {"occupation": "warehouse worker", "status": "off_sick", "months_off_work": 3}
    data["systemic"] = {"vomiting": "present", "hypotension": "present", "haemoglobin_falling": "present"}
    data["alignment"] = {"pelvic_incidence_deg": 58, "lumbar_lordosis_deg": 32, "sagittal_vertical_axis_mm": 70}
    data["risk_factors"] = {
        "dexa_t_score": -2.8,
        "osteoporosis": "present",
        "hypertension": "present",
        "other_conditions": ["benign prostatic hyperplasia"],
    }
    data["prior_treatments"] = [
        {"treatment": "oral_steroid_course", "response": "none"},
        {"treatment": "rest_or_activity_restriction", "response": "partial"},
    ]
    data["index_surgery"] = {
        "type": "fusion",
        "combined_with": ["laminectomy"],
        "position": "prone",
        "level_confirmed": "absent",
        "dural_tear": "present",
        "neuromonitoring": "no_change",
    }
    case = parse_case(data)
    assert case.pain.back_intensity is Intensity.severe
    assert case.exam.reflexes[0].reflex is Reflex.achilles
    assert case.prior_treatments[0].response is TreatmentResponse.none
    assert case.index_surgery.dural_tear is Presence.present
    assert parse_case(case.model_dump_json()) == case


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("pain.back_intensity", "terrible", "pain.back_intensity: Input should be 'none', 'mild', 'moderate'"),
        ("pain.onset", "overnight", "pain.onset: Input should be 'sudden', 'gradual' or 'unknown'"),
        ("pain.trend", "better", "pain.trend: Input should be 'improving'"),
        ("pain.nrs_overall", 11, "pain.nrs_overall: Input should be less than or equal to 10"),
        ("pain.shooting", "yes", "pain.shooting: Input should be 'present', 'absent' or 'unknown'"),
        ("exam.motor_grade_weakest", 6, "exam.motor_grade_weakest: Input should be less than or equal to 5"),
        ("exam.peripheral_nerve", "vagus", "exam.peripheral_nerve: Input should be 'common_peroneal'"),
        ("exam.reflexes", [{"reflex": "knee", "state": "absent"}], "exam.reflexes.0.reflex: Input should be"),
        ("exam.reflexes", [{"reflex": "achilles"}], "exam.reflexes.0.state: Field required"),
        ("function.walking_distance_m", -5, "function.walking_distance_m: Input should be greater than or equal"),
        ("function.odi_percent", 120, "function.odi_percent: Input should be less than or equal to 100"),
        ("function.rmdq_total", 25, "function.rmdq_total: Input should be less than or equal to 24"),
        ("function.lefs_total", 81, "function.lefs_total: Input should be less than or equal to 80"),
        ("work.status", "lazy", "work.status: Input should be 'working'"),
        ("work.occupation", "x" * 101, "work.occupation: String should have at most 100 characters"),
        ("systemic.hypotension", "low", "systemic.hypotension: Input should be 'present', 'absent' or 'unknown'"),
        ("alignment.pelvic_incidence_deg", 150, "alignment.pelvic_incidence_deg: Input should be less than"),
        ("alignment.sagittal_vertical_axis_mm", "5 cm", "alignment.sagittal_vertical_axis_mm: Input should be"),
        ("risk_factors.dexa_t_score", -9, "risk_factors.dexa_t_score: Input should be greater than or equal to -8"),
        ("risk_factors.other_conditions", [""], "risk_factors.other_conditions: Value error, each condition"),
        ("index_surgery.position", "standing", "index_surgery.position: Input should be 'prone'"),
        ("index_surgery.combined_with", ["keyhole"], "index_surgery.combined_with.0: Input should be"),
        ("index_surgery.neuromonitoring", "fine", "index_surgery.neuromonitoring: Input should be 'not_used'"),
        ("labs", [{"lab": "csf_protein", "value": 80}], "csf_protein must be between 0 and 50"),
    ],
)
def test_bad_value_names_the_field(path: str, value: object, expected: str) -> None:
    with pytest.raises(CaseError) as raised:
        parse_case(with_(path, value))
    assert expected.replace("Value error, ", "") in str(raised.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"pain": {"back_pain": "absent", "nrs_back": 6}}, "pain: back_pain is 'absent' but nrs_back is 6"),
        ({"pain": {"leg_pain": "absent", "leg_intensity": "severe"}}, "leg_pain is 'absent' but leg_intensity"),
        ({"pain": {"back_pain": "present", "nrs_back": 0}}, "back_pain is 'present' but nrs_back is 0"),
        ({"pain": {"nrs_leg": 0, "leg_intensity": "moderate"}}, "nrs_leg is 0 but leg_intensity is 'moderate'"),
        (
            {"pain": {"back_pain": "absent", "leg_pain": "absent", "nrs_overall": 5}},
            "back_pain and leg_pain are 'absent' but nrs_overall is 5",
        ),
        ({"exam": {"motor_deficit": "absent", "motor_grade_weakest": 3}}, "motor_deficit is 'absent' but"),
        ({"exam": {"motor_deficit": "present", "motor_grade_weakest": 5}}, "motor_grade_weakest is 5/5"),
        ({"exam": {"peripheral_nerve_deficit": "absent", "peripheral_nerve": "femoral"}}, "peripheral_nerve is"),
        ({"function": {"unable_to_walk": "present", "walking_distance_m": 200}}, "walking_distance_m is 200 but"),
        ({"work": {"status": "working", "months_off_work": 4}}, "months_off_work is 4.0 but status is 'working'"),
        ({"risk_factors": {"osteoporosis": "absent", "dexa_t_score": -3}}, "osteoporosis is 'absent' but"),
        ({"risk_factors": {"osteopenia": "present", "dexa_t_score": 0.5}}, "dexa_t_score 0.5 is normal"),
        (
            {"prior_treatments": [{"treatment": "bracing", "response": "none", "relief_percent": 60}]},
            "prior_treatments.0: response 'none' means 0-0 % relief, but relief_percent is 60",
        ),
        ({"index_surgery": {"type": "fusion", "combined_with": ["fusion"]}}, "combined_with repeats"),
        ({"index_surgery": {"type": "fusion", "combined_with": ["unknown"]}}, "combined_with lists 'unknown'"),
        ({"index_surgery": {"type": "fusion", "approach": "tlif", "other_approaches": ["tlif"]}}, "repeats the main"),
        ({"index_surgery": {"type": "implant_removal", "implants_removed": "absent"}}, "implant removal"),
    ],
)
def test_contradictions_are_refused_by_name(data: dict[str, object], expected: str) -> None:
    case = {**MINIMAL, **data}
    with pytest.raises(CaseError, match=expected.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_case(case)


def test_an_operation_of_unknown_type_can_be_recorded() -> None:
    case = parse_case({"id": "p1", "index_surgery": {"type": "unknown", "levels": ["L4-L5"]}})
    assert case.index_surgery.type.value == "unknown"


def test_every_kind_of_study_has_a_name_to_show() -> None:
    assert set(MODALITY_LABEL) == set(Modality)  # the form's study list and report reading name each one
