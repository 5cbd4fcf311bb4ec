"""The case form under attack: huge or odd row names, stale forms, impossible dates, identifiers with a newline,
ids past 2^63. Before, each of these gave a 500, ate memory, or silently changed saved data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fbss.case.parse import parse_case
from fbss.errors import CaseError
from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.repository import Repository
from fbss.web import caseform
from tests.conftest import EXAMPLES
from tests.security.conftest import client_for, patient_id
from tests.web.client import csrf_of, sign_in
from tests.web.server import CLINICIAN_PASSWORD


def form_of(data: dict[str, Any], version: int, csrf: str, **extra: str) -> dict[str, str]:
    """What the browser posts for a case opened on `version`: every control's value, the token, the step."""
    values = caseform.values_from_case(data)
    return {
        **values,
        "csrf": csrf,
        "_step": "psychosocial",
        "go": "save",
        "_base": json.dumps({"_version": version}),
        **extra,
    }


def test_a_huge_row_index_is_refused_without_building_the_rows(clinician: TestClient, database: Database) -> None:
    """Before: `diagnostics-1000000-finding` made the server build a million rows (0.5 to 10 GB)."""
    pid = patient_id(database, "DEMO-007")
    token = csrf_of(clinician, f"/patients/{pid}/case/new")
    data = Repository(database, user="t").case_version("DEMO-007").data
    form = form_of(data, 1, token, go="imaging", _step="imaging")
    form["diagnostics-1000000-finding"] = "recurrent_disc_herniation"
    form["studies-99999999999999999999-modality"] = "mri"
    response = clinician.post(f"/patients/{pid}/case/new", data=form)
    assert response.status_code == 200
    assert "at most 100 rows" in response.text
    assert len(response.text) < 2_000_000
    assert response.text.count('name="diagnostics-') <= 100 * 8


@pytest.mark.parametrize(
    "name",
    [
        "diagnostics-x-finding",
        "diagnostics--1-finding",
        "diagnostics-²-finding",
        "studies-1",
        "prior_treatments-",
        "diagnostics-0-",
    ],
)
def test_odd_row_names_give_a_page_not_a_server_error(clinician: TestClient, database: Database, name: str) -> None:
    pid = patient_id(database, "DEMO-007")
    token = csrf_of(clinician, f"/patients/{pid}/case/new")
    data = Repository(database, user="t").case_version("DEMO-007").data
    form = form_of(data, 1, token, go="imaging", _step="imaging")
    form[name] = "recurrent_disc_herniation"
    response = clinician.post(f"/patients/{pid}/case/new", data=form)
    assert response.status_code in (200, 400)


def test_a_stale_form_does_not_revert_what_was_saved_meanwhile(database: Database, kb: KnowledgeBase) -> None:
    """Before: a form opened on version 1 and saved after someone saved version 2 overwrote version 2's changes,
    including fields that are not on the form at all."""
    pid = patient_id(database, "DEMO-009")
    repo = Repository(database, user="t")
    opened = repo.case_version("DEMO-009")
    a = sign_in(client_for(database, kb), "clinician", CLINICIAN_PASSWORD)
    token = csrf_of(a, f"/patients/{pid}/case/new")
    # Meanwhile someone saves a version with a new leg pain score and an earlier operation (not on the form).
    meanwhile = json.loads(json.dumps(opened.data))
    meanwhile["pain"]["nrs_leg"] = 9
    meanwhile["earlier_surgeries"] = [{"type": "microdiscectomy", "date": "2019-05-01", "levels": ["L4-L5"]}]
    meanwhile["total_spine_operations"] = 2
    repo.save_case("DEMO-009", parse_case(meanwhile), note="second opinion")
    # The first clinician, on the old form, changes only the back pain score and saves.
    mine = form_of(opened.data, opened.version, token)
    mine["pain.nrs_back"] = "3"
    before = len(repo.case_history("DEMO-009"))
    response = a.post(f"/patients/{pid}/case/new", data=mine)
    assert response.status_code == 409 and "Not saved" in response.text
    assert len(repo.case_history("DEMO-009")) == before  # nothing saved behind anyone's back
    # Saving the merged form keeps both changes and the operation that is not on the form.
    merged = {**caseform.values_from_case(repo.case_version("DEMO-009").data), "pain.nrs_back": "3"}
    again = a.post(
        f"/patients/{pid}/case/new",
        data={
            **merged,
            "csrf": token,
            "_step": "psychosocial",
            "go": "save",
            "_base": json.dumps({"_version": opened.version + 1}),
        },
    )
    assert again.status_code == 303
    saved = repo.case_version("DEMO-009").data
    assert saved["pain"]["nrs_back"] == 3 and saved["pain"]["nrs_leg"] == 9
    assert saved["earlier_surgeries"] and saved["earlier_surgeries"][0]["date"] == "2019-05-01"


def test_merge_marks_a_field_both_changed() -> None:
    merged, conflicts = caseform.merge_stale(
        {"pain.nrs_back": "3", "pain.nrs_leg": "5", "note": "mine"},
        {"pain.nrs_back": "7", "pain.nrs_leg": "5"},
        {"pain.nrs_back": "6", "pain.nrs_leg": "9"},
    )
    assert merged["pain.nrs_back"] == "3" and merged["pain.nrs_leg"] == "9" and merged["note"] == "mine"
    assert set(conflicts) == {"pain.nrs_back"}


def test_merge_keeps_a_checkbox_ticked_or_cleared_on_a_stale_form() -> None:
    """Multiple-choice options are form fields too: ticked or cleared here, they are not reverted by the merge."""
    ticked, cleared = sorted(caseform.OPTION_NAMES)[:2]
    original = {ticked: "", cleared: "on"}
    latest = {ticked: "", cleared: "on", "pain.nrs_leg": "9"}
    merged, conflicts = caseform.merge_stale({ticked: "on"}, original, latest)  # a cleared box is not posted
    assert merged[ticked] == "on" and cleared not in merged and merged["pain.nrs_leg"] == "9"
    assert not conflicts


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_impossible_dates_are_refused_on_the_form_and_in_files(
    clinician: TestClient, database: Database, date: str
) -> None:
    pid = patient_id(database, "DEMO-010")
    token = csrf_of(clinician, f"/patients/{pid}/case/new")
    record = Repository(database, user="t").case_version("DEMO-010")
    form = form_of(record.data, record.version, token)
    form["index_surgery.date"] = date
    form["assessment_date"] = date
    response = clinician.post(f"/patients/{pid}/case/new", data=form)
    assert response.status_code == 400 and "a date from 1900-01-01 to 2100-12-31" in response.text
    data = json.loads((EXAMPLES / "recurrent_herniation_after_discectomy.json").read_text())
    data["index_surgery"]["date"] = data["assessment_date"] = date
    with pytest.raises(CaseError, match=r"index_surgery\.date: a date from 1900"):
        parse_case(data)


def test_a_lone_surrogate_in_a_level_is_a_case_error_not_a_crash() -> None:
    """Before: 2.1 % of fuzzed cases crashed `parse_case` with UnicodeEncodeError, all with this signature."""
    data = json.loads((EXAMPLES / "recurrent_herniation_after_discectomy.json").read_text())
    data["index_surgery"]["levels"] = ["L4-\ud800"]
    with pytest.raises(CaseError, match=r"index_surgery\.levels\.0: holds an unpaired surrogate"):
        parse_case(data)
    data["index_surgery"]["levels"] = ["L5-S1"]
    data["studies"] = [{"modality": "mri", "level": "\udfff"}]
    with pytest.raises(CaseError, match="unpaired surrogate"):
        parse_case(data)
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(3000):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(CaseError, match="nested more than"):
        parse_case(deep)


@pytest.mark.parametrize("identifier", ["MRN-3\n", "MRN-3\r\n", "\nMRN-3", "MRN 3", "MRN-3\x00"])
def test_identifiers_with_a_newline_are_refused(clinician: TestClient, database: Database, identifier: str) -> None:
    """Before: `MRN-3\\n` was accepted next to `MRN-3`, and `fbss patient show MRN-3` found only one of them."""
    with pytest.raises(StoreError, match="patient identifier"):
        Repository(database, user="t").add_patient(identifier)
    token = csrf_of(clinician, "/patients")
    response = clinician.post("/patients", data={"csrf": token, "identifier": "MRN-3\nx"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/patients/9223372036854775808/assessment",
        "/patients/99999999999999999999999/history",
        "/patients/-1/outcomes",
        "/patients/{pid}/assessment?version=9223372036854775808",
        "/patients/{pid}/assessment?version=²",
        "/patients/abc/assessment",
    ],
)
def test_ids_out_of_range_are_not_found_not_a_server_error(
    clinician: TestClient, database: Database, path: str
) -> None:
    response = clinician.get(path.replace("{pid}", str(patient_id(database))))
    assert response.status_code in (400, 404)
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize("days", ["²", "99999999999999", "0", "-3", "1e3", "٣"])
def test_odd_link_validity_is_a_form_error(clinician: TestClient, database: Database, days: str) -> None:
    """Before: `days=²` passed `str.isdigit()` and crashed `int()` with a 500."""
    pid = patient_id(database, "DEMO-002")
    token = csrf_of(clinician, f"/patients/{pid}/outcomes")
    response = clinician.post(
        f"/patients/{pid}/portal-links", data={"csrf": token, "time_point": "month_3", "days": days}
    )
    assert response.status_code == 400 and "valid for (days)" in response.text


def test_a_server_error_page_has_the_security_headers_and_no_detail(
    clinician: TestClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a 500 page came from the outermost error handler, without CSP, frame or cache headers."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret detail MRN-123")

    monkeypatch.setattr("fbss.web.clinic.trends", broken)
    response = clinician.get(f"/patients/{patient_id(database)}/outcomes")
    assert response.status_code == 500 and "Something went wrong" in response.text
    assert "MRN-123" not in response.text
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Cache-Control"):
        assert header in response.headers, header
