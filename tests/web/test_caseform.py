"""The case form carries the presentation vocabulary: every new field survives the form, errors land on the control."""

from __future__ import annotations

import json
from typing import Any

from fbss.case.parse import parse_case
from fbss.web import caseform

CASE: dict[str, Any] = {
    "id": "form-1",
    "index_surgery": {
        "type": "fusion",
        "levels": ["L4-L5"],
        "combined_with": ["laminectomy"],
        "other_approaches": ["olif"],
        "approach": "posterior",
        "position": "prone",
        "level_confirmed": "absent",
        "neuromonitoring": "alert_recovered",
    },
    "pain": {"back_pain": "present", "back_intensity": "severe", "onset": "sudden", "worse_twisting": "present"},
    "function": {"walking_distance_m": 200, "odi_percent": 44, "rmdq_total": 15},
    "exam": {
        "reflexes": [
            {"reflex": "achilles", "side": "left", "state": "absent"},
            {"reflex": "patellar", "side": "left", "state": "normal"},
        ],
        "crossed_straight_leg_raise": "present",
    },
    "systemic": {"hypotension": "present"},
    "alignment": {"pelvic_incidence_deg": 55, "lumbar_lordosis_deg": 30},
    "risk_factors": {"hypertension": "present", "other_conditions": ["gout", "prostate hyperplasia"]},
    "work": {"status": "off_sick", "months_off_work": 2},
    "prior_treatments": [{"treatment": "oral_steroid_course", "response": "none"}],
}


def test_every_new_field_survives_a_trip_through_the_form() -> None:
    case = parse_case(CASE)
    data = json.loads(case.model_dump_json())
    values = caseform.values_from_case(data)
    assert values["index_surgery.combined_with.laminectomy"] == "on"
    assert values["index_surgery.combined_with.discectomy"] == ""
    assert values["risk_factors.other_conditions"] == "gout; prostate hyperplasia"
    assert values["reflexes-0-reflex"] == "achilles"
    back, errors = caseform.validate(caseform.case_data_from_form(values, {}, "form-1"))
    assert errors == {}
    assert back == case


def test_new_sections_sit_on_the_steps_a_clinician_expects() -> None:
    steps = {
        name: caseform.BY_NAME[name].step
        for name in (
            "function.walking_distance_m",
            "systemic.hypotension",
            "alignment.pelvic_tilt_deg",
            "work.status",
            "index_surgery.position",
            "pain.trend",
            "exam.crossed_straight_leg_raise",
            "risk_factors.dexa_t_score",
        )
    }
    assert steps == {
        "function.walking_distance_m": "pain",
        "systemic.hypotension": "exam",
        "alignment.pelvic_tilt_deg": "imaging",
        "work.status": "psychosocial",
        "index_surgery.position": "surgery",
        "pain.trend": "pain",
        "exam.crossed_straight_leg_raise": "exam",
        "risk_factors.dexa_t_score": "course",
    }
    assert caseform.step_of("reflexes-0-state") == "exam"
    assert caseform.step_of("diagnostics-1-finding") == "imaging"


def test_errors_land_on_the_control_that_caused_them() -> None:
    values = caseform.values_from_case(CASE)
    values.update({"reflexes-1-state": "", "function.odi_percent": "140", "pain.nrs_back": "0"})
    _case, errors = caseform.validate(caseform.case_data_from_form(values, {}, "form-1"))
    assert "required" in errors["reflexes-1-state"]
    assert "less than or equal to 100" in errors["function.odi_percent"]
    assert "back_pain is 'present' but nrs_back is 0" in errors["pain.back_pain"]
    values = caseform.values_from_case(CASE)
    values["index_surgery.combined_with.fusion"] = "on"  # the operation's own type
    _case, errors = caseform.validate(caseform.case_data_from_form(values, {}, "form-1"))
    assert "combined_with repeats" in errors["index_surgery.combined_with"]


def test_emptying_a_choice_list_or_the_reflex_rows_clears_them() -> None:
    values = caseform.values_from_case(CASE)
    values = {k: ("" if k.startswith(("index_surgery.combined_with.", "reflexes-")) else v) for k, v in values.items()}
    case, errors = caseform.validate(caseform.case_data_from_form(values, CASE, "form-1"))
    assert errors == {} and case is not None
    assert case.index_surgery.combined_with == () and case.exam.reflexes == ()
