"""The case form as a clinician fills it: questions only when they apply, levels written as people write them,
lab results by their reading, messages that name the finding, age from the year of birth, rows added on request; and
it carries the presentation vocabulary: every field survives the form, errors land on the control."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from fbss.case.model import LabReading, Presence
from fbss.case.parse import parse_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.findings import read_findings
from fbss.web import caseform
from tests.web.client import csrf_of


def form(**values: str) -> dict[str, str]:
    return {"index_surgery.type": "fusion", **{k.replace("__", "."): v for k, v in values.items()}}


def case_of(values: dict[str, str]) -> tuple[object, dict[str, str]]:
    return caseform.validate(caseform.case_data_from_form(values, {}, "case-1"))


def test_pregnancy_is_asked_only_of_someone_who_could_be_pregnant() -> None:
    assert not caseform.relevant("patient.pregnant", {"patient.sex": "male", "patient.age": "40"})
    assert not caseform.relevant("patient.pregnant", {"patient.sex": "female", "patient.age": "62"})
    assert caseform.relevant("patient.pregnant", {"patient.sex": "female", "patient.age": "34"})
    assert caseform.relevant("patient.pregnant", {"patient.sex": "", "patient.age": ""})  # not known yet: asked


def test_follow_up_questions_wait_for_the_answer_they_follow() -> None:
    assert not caseform.relevant("patient.anticoagulant_can_pause", {"patient.anticoagulant": "unknown"})
    assert caseform.relevant("patient.anticoagulant_can_pause", {"patient.anticoagulant": "present"})
    assert not caseform.relevant("exam.motor_deficit_progressive", {"exam.motor_deficit": "absent"})
    assert not caseform.relevant("index_surgery.interbody_cage", {"index_surgery.type": "microdiscectomy"})
    assert caseform.relevant("index_surgery.interbody_cage", {"index_surgery.type": "fusion"})
    assert set(caseform.RELEVANT_WHEN) <= {f.name for f in caseform.FIELDS}


def test_levels_as_written_en_dash_shorthand_one_vertebra_and_pelvis() -> None:
    case, errors = case_of(
        form(
            index_surgery__levels="L4–S1",
            **{
                "diagnostics-0-finding": "screw_loosening",
                "diagnostics-0-level": "s1",
                "diagnostics-1-finding": "screw_lucency",
                "diagnostics-1-level": "pelvis",
                "diagnostics-2-finding": "pseudarthrosis",
                "diagnostics-2-level": "L5/S1",
            },
        )
    )
    assert errors == {}
    assert case.index_surgery.levels == ("L4-S1",)  # type: ignore[attr-defined]
    assert [d.level for d in case.diagnostics] == ["S1", "pelvis", "L5-S1"]  # type: ignore[attr-defined]


def test_a_wrong_level_is_named_by_its_finding_not_by_a_row_number() -> None:
    values = form(**{"diagnostics-0-finding": "pseudarthrosis", "diagnostics-0-level": "S3"})
    case, errors = case_of(values)
    assert case is None and list(errors) == ["diagnostics-0-level"]
    assert "expected a segment such as 'L5-S1', one vertebra such as 'S1', or 'pelvis'" in errors["diagnostics-0-level"]
    assert caseform.row_label("diagnostics", 0, values) == "Finding 1 (Pseudarthrosis)"
    assert not any("['" in (f.help or "") for f in caseform.FIELDS)  # help in plain words, never Python syntax


def test_a_lab_result_by_its_reading_alone(kb: KnowledgeBase) -> None:
    case, errors = case_of(form(**{"labs.crp.reading": "normal", "labs.esr": "45"}))
    assert errors == {}
    readings = {lab.lab.value: (lab.value, lab.reading) for lab in case.labs}  # type: ignore[attr-defined]
    assert readings == {"crp": (None, LabReading.normal), "esr": (45.0, None)}
    read = read_findings(case, kb)  # type: ignore[arg-type]
    assert read.state["crp_raised"] is Presence.absent and read.observed["crp_raised"] == "normal"
    raised, errors = case_of(form(**{"labs.crp.reading": "raised"}))
    assert errors == {}
    assert read_findings(raised, kb).state["crp_raised"] is Presence.present  # type: ignore[arg-type]


def test_a_lab_value_out_of_range_is_reported_on_its_own_field() -> None:
    _case, errors = case_of(form(**{"labs.crp": "5", "labs.esr": "900"}))
    assert list(errors) == ["labs.esr"] and "between 0 and 200" in errors["labs.esr"]


def test_rows_asked_for_are_kept_and_bounded() -> None:
    assert caseform.row_count({}, "diagnostics") == caseform.BLANK_ROWS["diagnostics"]
    assert caseform.row_count({"_rows-diagnostics": "5"}, "diagnostics") == 5
    assert caseform.row_count({"_rows-diagnostics": "100000"}, "diagnostics") == caseform.MAX_ROWS
    assert caseform.row_count({"studies-3-modality": "mri"}, "studies") == 4 + caseform.BLANK_ROWS["studies"]


def new_patient(client: TestClient, record: str, birth_year: str = "") -> str:
    token = csrf_of(client, "/patients")
    response = client.post("/patients", data={"csrf": token, "identifier": record, "birth_year": birth_year})
    assert response.status_code == 303
    return str(response.headers["location"]).removesuffix("/case/new")


def test_age_comes_from_the_year_of_birth(clinician: TestClient) -> None:
    base = new_patient(clinician, "AGE-1", "1962")
    page = clinician.get(base + "/case/new").text
    field = re.search(r'<input type="number" id="f-patient-age" name="patient.age" value="(\d*)"', page)
    assert field and 62 <= int(field.group(1)) <= 66  # the year of the assessment minus 1962
    assert "From the year of birth (1962)" in page


def test_sections_have_titles_of_their_own_and_pregnancy_starts_hidden_for_a_man(clinician: TestClient) -> None:
    base = new_patient(clinician, "FORM-1", "1962")
    token = csrf_of(clinician, base + "/case/new")
    data = {
        "csrf": token,
        "_step": "surgery",
        "go": "surgery",
        "index_surgery.type": "fusion",
        "patient.sex": "male",
        "patient.age": "62",
    }
    page = clinician.post(base + "/case/new", data=data).text
    assert page.count("<legend>Index operation</legend>") == 1
    assert re.search(r'<fieldset class="presence" id="f-patient-pregnant"[^>]*data-show-when=[^>]* hidden>', page)


def test_add_a_row_without_the_browser_script(clinician: TestClient) -> None:
    base = new_patient(clinician, "ROWS-1")
    token = csrf_of(clinician, base + "/case/new?step=imaging")
    data = {"csrf": token, "_step": "imaging", "go": "add_row:diagnostics", "index_surgery.type": "fusion"}
    page = clinician.post(base + "/case/new", data=data).text
    blank = caseform.BLANK_ROWS["diagnostics"]
    assert f'name="diagnostics-{blank}-finding"' in page and f'name="diagnostics-{blank + 1}-finding"' not in page
    assert f'name="_rows-diagnostics" id="row-count-diagnostics" value="{blank + 1}"' in page


def test_the_error_summary_names_the_finding(clinician: TestClient) -> None:
    base = new_patient(clinician, "ERR-1")
    token = csrf_of(clinician, base + "/case/new?step=imaging")
    data = {
        "csrf": token,
        "_step": "imaging",
        "go": "save",
        "index_surgery.type": "fusion",
        "diagnostics-0-finding": "screw_loosening",
        "diagnostics-0-level": "L9",
    }
    page = clinician.post(base + "/case/new", data=data).text
    assert "Finding 1 (Screw loosening): Level" in page
    assert "diagnostics row" not in page


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
