"""What the clinician's pages say, read in-process: the history's changes, the outcomes' time points and the
report exported for a stored patient (outcome charts included, drawn by the same code as the page)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.web.client import sign_in
from tests.web.server import CLINICIAN_PASSWORD, prepare


@pytest.fixture(scope="module")
def clinician(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Iterator[TestClient]:
    db: Database = prepare(tmp_path_factory.mktemp("pages"), kb)
    client = TestClient(create_app(db, kb, WebConfig(secret_key="pages-secret-" + "z" * 40)), follow_redirects=False)
    yield sign_in(client, "clinician", CLINICIAN_PASSWORD)
    db.close()


def ids(client: TestClient) -> dict[str, str]:
    found = re.findall(r'href="/patients/(\d+)">(DEMO-\d+)<', client.get("/patients").text)
    return {record: pid for pid, record in found}


def test_history_says_what_the_mri_changed(clinician: TestClient) -> None:
    """DEMO-001 was saved before and after the MRI that showed the recurrent herniation."""
    page = clinician.get(f"/patients/{ids(clinician)['DEMO-001']}/history").text
    assert "What changed in the assessment" in page
    assert "Spinal cord stimulation advice: strongly recommended → stopped" in page
    assert re.search(r"Category Re-operation: inappropriate \d/9 → appropriate \d/9", page)
    assert re.search(r"Recurrent disc herniation: \d+ % → &gt;99 %", page)
    assert "finding: recurrent disc herniation" in page  # the case field, in words


def test_outcomes_name_time_points_and_the_important_change(clinician: TestClient) -> None:
    page = clinician.get(f"/patients/{ids(clinician)['DEMO-001']}/outcomes").text
    assert "<td>3 months</td>" in page and "<td>week_6" not in page
    assert "minimal important change reached" in page
    assert page.count("<svg") >= 3


def test_clinician_report_of_a_stored_patient_has_the_outcome_charts(clinician: TestClient) -> None:
    report = clinician.get(f"/patients/{ids(clinician)['DEMO-001']}/reports/clinician.html")
    assert report.status_code == 200
    html = report.text
    assert "Outcomes over time" in html and "Stepped care plan" in html
    svg_ids = re.findall(r'<svg[^>]*>|id="([^"]+)"', html)
    named = [i for i in svg_ids if i]
    assert len(named) == len(set(named)), "two charts share an SVG id"
    assert html.count("<svg") >= 4  # the differential and the outcome charts
    without = clinician.get(f"/patients/{ids(clinician)['DEMO-002']}/reports/clinician.html").text
    assert "Outcomes over time" not in without  # no questionnaire on file: no empty section


def test_the_patient_list_shows_red_flags_and_the_leading_cause(clinician: TestClient) -> None:
    page = clinician.get("/patients").text
    row = re.search(r"<tr>\s*<td><a href=\"/patients/\d+\">DEMO-003</a>.*?</tr>", page, re.S)
    assert row and "EMERGENCY" in row.group(0)  # cauda equina: post-operative urinary retention
    calm = re.search(r"<tr>\s*<td><a href=\"/patients/\d+\">DEMO-001</a>.*?</tr>", page, re.S)
    assert calm and "EMERGENCY" not in calm.group(0) and "Recurrent disc herniation" in calm.group(0)


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
