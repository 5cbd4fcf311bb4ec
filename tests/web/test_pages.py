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
