"""The case form as a clinician fills it: questions only when they apply, levels written as people write them,
lab results by their reading, messages that name the finding, age from the year of birth, rows added on request."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from fbss.case.model import LabReading, Presence
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
    case, errors = case_of(form(index_surgery__levels="L4–S1", **{
        "diagnostics-0-finding": "screw_loosening", "diagnostics-0-level": "s1",
        "diagnostics-1-finding": "screw_lucency", "diagnostics-1-level": "pelvis",
        "diagnostics-2-finding": "pseudarthrosis", "diagnostics-2-level": "L5/S1",
    }))
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
    data = {"csrf": token, "_step": "surgery", "go": "surgery", "index_surgery.type": "fusion",
            "patient.sex": "male", "patient.age": "62"}
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
    data = {"csrf": token, "_step": "imaging", "go": "save", "index_surgery.type": "fusion",
            "diagnostics-0-finding": "screw_loosening", "diagnostics-0-level": "L9"}
    page = clinician.post(base + "/case/new", data=data).text
    assert "Finding 1 (Screw loosening): Level" in page
    assert "diagnostics row" not in page
