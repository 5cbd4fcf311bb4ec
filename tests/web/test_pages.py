"""What the clinician's pages say, read in-process: the history's changes, the outcomes' time points and the
report exported for a stored patient (outcome charts included, drawn by the same code as the page)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


def ids(client: TestClient) -> dict[str, str]:
    found = re.findall(r'href="/patients/(\d+)">(DEMO-\d+)<', client.get("/patients").text)
    return {record: pid for pid, record in found}


def test_history_says_what_the_mri_changed(clinician: TestClient) -> None:
    """DEMO-001 was saved before and after the MRI that showed the recurrent herniation."""
    page = clinician.get(f"/patients/{ids(clinician)['DEMO-001']}/history").text
    assert "What changed in the assessment" in page
    assert "Spinal cord stimulation advice: not recommended → stopped" in page
    assert re.search(r"Category Re-operation: inappropriate \d/9 → uncertain \d/9", page)
    assert re.search(r"Recurrent disc herniation: \d+ % → &gt;\d+ %", page)  # above the calibrated ceiling
    assert "finding: recurrent disc herniation" in page  # the case field, in words


def test_outcomes_name_time_points_and_the_important_change(clinician: TestClient) -> None:
    page = clinician.get(f"/patients/{ids(clinician)['DEMO-001']}/outcomes").text
    shown = re.sub(r"<[^>]+>", " ", page)  # what a reader sees, without the markup's names and values
    assert '<td data-label="Time point">3 months</td>' in page and "week_6" not in shown
    assert "nrs_back" not in shown and "phq9" not in shown  # questionnaires by name, not by internal code
    assert "minimal important change reached" in page
    assert page.count("<svg") >= 3


def test_clinician_report_of_a_stored_patient_has_the_outcome_charts(clinician: TestClient) -> None:
    report = clinician.get(f"/patients/{ids(clinician)['DEMO-001']}/reports/clinician.html")
    assert report.status_code == 200
    html = report.text
    assert "Outcomes over time" in html and "Stepped care plan" in html
    assert html.count('src="data:image/svg+xml;base64,') >= 4  # the differential and the outcome charts, as images
    assert report.headers["content-disposition"].startswith('inline; filename="DEMO-001-clinician-report-v2-en-A4')
    without = clinician.get(f"/patients/{ids(clinician)['DEMO-002']}/reports/clinician.html").text
    assert "Outcomes over time" not in without  # no questionnaire on file: no empty section


def test_the_patient_list_shows_red_flags_and_the_leading_cause(clinician: TestClient) -> None:
    page = clinician.get("/patients").text
    row = re.search(r"<tr>\s*<th scope=\"row\"><a href=\"/patients/\d+\">DEMO-003</a>.*?</tr>", page, re.S)
    assert row and "EMERGENCY" in row.group(0)  # cauda equina: post-operative urinary retention
    calm = re.search(r"<tr>\s*<th scope=\"row\"><a href=\"/patients/\d+\">DEMO-001</a>.*?</tr>", page, re.S)
    assert calm and "EMERGENCY" not in calm.group(0) and "Recurrent disc herniation" in calm.group(0)


def test_the_patient_list_puts_the_most_urgent_first(clinician: TestClient) -> None:
    listed = clinician.get("/patients").text
    order = [record for _pid, record in re.findall(r'href="/patients/(\d+)">(DEMO-\d+)<', listed)]
    assert order[0] == "DEMO-008"  # an open PHQ-9 item 9 safety alert heads the list
    emergencies = {"DEMO-003", "DEMO-011"}  # cauda equina; epidural haematoma
    assert set(order[1:3]) == emergencies
    assert order.index("DEMO-009") < order.index("DEMO-001")  # a same-day red flag before a calm case


def test_a_patients_name_and_year_of_birth_can_be_corrected(clinician: TestClient) -> None:
    pid = ids(clinician)["DEMO-012"]
    page = clinician.get(f"/patients/{pid}/edit").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token and 'value="Laura Esposito"' in page
    bad = clinician.post(
        f"/patients/{pid}/edit", data={"csrf": token.group(1), "display_name": "L. Esposito", "birth_year": "1850"}
    )
    assert bad.status_code == 400 and "year of birth" in bad.text and "1850" in bad.text
    done = clinician.post(
        f"/patients/{pid}/edit",
        data={"csrf": token.group(1), "display_name": "Laura E. Esposito", "birth_year": "1961"},
    )
    assert done.status_code == 303
    assert "Laura E. Esposito" in clinician.get(f"/patients/{pid}/edit").text


def test_report_names_say_whose_which_version_language_and_page(clinician: TestClient) -> None:
    pid = ids(clinician)["DEMO-002"]
    names = set()
    for lang, page in (("en", "A4"), ("es", "A4"), ("en", "Letter")):
        response = clinician.get(f"/patients/{pid}/reports/clinician.html?lang={lang}&page={page}")
        assert response.headers["content-disposition"].startswith("inline;")  # opens in the browser
        names.add(response.headers["content-disposition"].split("filename=")[1])
    assert names == {
        '"DEMO-002-clinician-report-v1-en-A4.html"',
        '"DEMO-002-clinician-report-v1-es-A4.html"',
        '"DEMO-002-clinician-report-v1-en-Letter.html"',
    }


def test_every_page_has_an_icon(clinician: TestClient) -> None:
    assert '<link rel="icon" href="/static/favicon.svg"' in clinician.get("/patients").text
    icon = clinician.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_times_are_shown_in_the_clinics_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from fbss.errors import FbssError
    from fbss.web import templating

    moment = dt.datetime(2026, 1, 15, 13, 5, tzinfo=dt.UTC)
    templating.clinic_zone.cache_clear()
    monkeypatch.setenv(templating.TIMEZONE_VARIABLE, "Europe/Madrid")
    try:
        assert templating.local_time(moment) == "2026-01-15 14:05 CET"
        monkeypatch.setenv(templating.TIMEZONE_VARIABLE, "Mars/Olympus")
        templating.clinic_zone.cache_clear()
        with pytest.raises(FbssError, match="FBSS_TIMEZONE: 'Mars/Olympus' is not a time zone"):
            templating.local_time(moment)
    finally:
        templating.clinic_zone.cache_clear()


def test_the_case_form_asks_for_the_presentation_vocabulary_on_each_step(clinician: TestClient) -> None:
    form = f"/patients/{ids(clinician)['DEMO-001']}/case/new"
    surgery = clinician.get(form + "?step=surgery").text
    assert "Done in the same operation" in surgery and 'name="index_surgery.combined_with.laminectomy"' in surgery
    assert 'id="f-index_surgery-position"' in surgery and "Level confirmed with intra-operative imaging" in surgery
    pain = clinician.get(form + "?step=pain").text
    assert "Walking and function" in pain and 'id="f-function-odi_percent"' in pain
    assert 'id="f-pain-back_intensity"' in pain and 'id="f-pain-trend"' in pain
    exam = clinician.get(form + "?step=exam").text
    assert "Tendon reflexes" in exam and 'id="f-reflexes-0-reflex"' in exam
    assert "General, visceral and circulation signs" in exam and 'name="systemic.hypotension"' in exam
    imaging = clinician.get(form + "?step=imaging").text
    assert "Spinopelvic alignment" in imaging and 'id="f-alignment-pelvic_incidence_deg"' in imaging
    assert '<input type="hidden" name="reflexes-0-reflex"' in imaging  # rows of other steps travel along
    assert 'id="f-labs-csf_protein"' in imaging
    assert 'id="f-work-status"' in clinician.get(form + "?step=psychosocial").text
