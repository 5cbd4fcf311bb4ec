"""The portal link's lifecycle: opening (or a link preview) claims nothing, the first answer claims the link for
its browser, no second browser and no second send, a staff browser is never signed out by a link, odd answers
are form errors with the crisis contacts, and the link names the configured address, never the Host header."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fbss.instruments import load_instruments, score
from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.store.models import QuestionnaireResponse
from fbss.store.portal import AlreadyAnsweredError, Portal, link_author
from fbss.store.records import NewResponse
from fbss.store.repository import Repository
from fbss.store.web_sessions import WebSessions
from fbss.web.config import WebConfig
from tests.security.conftest import SECRET, client_for, new_link, patient_id
from tests.store.test_reliability import run_threads
from tests.web.client import csrf_of, sign_in
from tests.web.server import CLINICIAN_PASSWORD

NRS = {"pain": "4"}
CRISIS = "not read in real time"


def opened(db: Database, kb: KnowledgeBase, token: str) -> TestClient:
    client = client_for(db, kb)
    assert client.get(f"/portal/open/{token}").status_code == 303
    return client


def answer(client: TestClient, instrument: str, answers: dict[str, str]) -> int:
    token = csrf_of(client, f"/portal/q/{instrument}")
    return client.post(f"/portal/q/{instrument}", data={"csrf": token, **answers}).status_code


def rows_of(db: Database, link_id: int) -> int:
    with db.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(QuestionnaireResponse)
                .where(QuestionnaireResponse.created_by == link_author(link_id))
            )
            or 0
        )


def test_a_link_preview_does_not_use_up_the_link(database: Database, kb: KnowledgeBase) -> None:
    token = new_link(database)
    preview = client_for(database, kb)  # a chat app's link preview, a mail scanner
    assert preview.get(f"/portal/open/{token}").status_code == 303
    assert preview.get("/portal").status_code == 200
    patient = opened(database, kb, token)
    assert answer(patient, "nrs_back", NRS) == 303


def test_a_second_browser_cannot_fill_a_claimed_link(database: Database, kb: KnowledgeBase) -> None:
    """Before: a link could be filled from two browsers until it was finished."""
    token = new_link(database)
    first, second = opened(database, kb, token), opened(database, kb, token)
    assert answer(first, "nrs_back", NRS) == 303
    page = second.get("/portal")
    assert page.status_code == 409 and "another" in page.text and CRISIS in page.text
    status = second.post("/portal/q/nrs_leg", data={"csrf": csrf_of(second, "/login"), "pain": "5"}).status_code
    assert status == 409
    assert answer(first, "nrs_leg", NRS) == 303  # the first browser goes on


def test_finishing_a_link_ends_it_in_every_browser(database: Database, kb: KnowledgeBase) -> None:
    token = new_link(database, time_point="month_3")
    patient = opened(database, kb, token)
    for instrument, answers in (
        ("nrs_back", NRS),
        ("nrs_leg", NRS),
        ("phq9", {f"item{i}": "0" for i in range(1, 10)}),
        ("pgic", {"rating": "3"}),
    ):
        assert answer(patient, instrument, answers) in (200, 303), instrument
    assert patient.get("/portal").status_code == 403
    assert client_for(database, kb).get(f"/portal/open/{token}").status_code == 403


def test_opening_a_link_does_not_sign_out_a_clinician(database: Database, kb: KnowledgeBase) -> None:
    """Before: a GET to /portal/open/... replaced a signed-in clinician's session (an <img> on any page could)."""
    clinician = sign_in(client_for(database, kb), "clinician", CLINICIAN_PASSWORD)
    response = clinician.get(f"/portal/open/{new_link(database)}")
    assert response.status_code == 409 and "signed in" in response.text
    assert clinician.get("/patients").status_code == 200


@pytest.mark.parametrize("value", ["²", "--1", "9" * 5000, "٣", "1_0", " ", "0x3", "4.0"])
def test_odd_portal_answers_are_a_form_error_with_the_crisis_contacts(
    database: Database, kb: KnowledgeBase, value: str
) -> None:
    """Before: '²', '--1' and 5,000 digits gave a 500 page without the crisis contacts."""
    patient = opened(database, kb, new_link(database))
    token = csrf_of(patient, "/portal/q/phq9")
    answers = {f"item{i}": "0" for i in range(1, 10)} | {"item3": value}
    response = patient.post("/portal/q/phq9", data={"csrf": token, **answers})
    assert response.status_code in (303, 400)
    if response.status_code == 400:
        assert CRISIS in response.text


def test_an_unreadable_answer_beside_item_9_still_shows_the_crisis_message(
    database: Database, kb: KnowledgeBase
) -> None:
    patient = opened(database, kb, new_link(database))
    token = csrf_of(patient, "/portal/q/phq9")
    answers = {f"item{i}": "0" for i in range(1, 10)} | {"item3": "²", "item9": "2"}
    response = patient.post("/portal/q/phq9", data={"csrf": token, **answers})
    assert response.status_code == 400
    tag = re.search(r'<div id="crisis-now"[^>]*>', response.text)
    assert tag is not None and "hidden" not in tag.group(0)  # shown, not hidden


def test_server_errors_in_the_portal_show_the_crisis_contacts(
    database: Database, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = opened(database, kb, new_link(database))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated fault")

    monkeypatch.setattr("fbss.web.patient_portal._progress", broken)
    response = patient.get("/portal")
    assert response.status_code == 500
    assert CRISIS in response.text and "simulated fault" not in response.text
    assert response.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response.headers


def test_a_double_send_stores_one_response(database: Database, kb: KnowledgeBase) -> None:
    """Before: two quick sends of the same questionnaire stored two rows about one time in ten."""
    token = new_link(database)
    patient = opened(database, kb, token)
    link = Portal(database, user="t").resolve(token)
    assert link is not None
    csrf = csrf_of(patient, "/portal/q/nrs_back")
    codes = [patient.post("/portal/q/nrs_back", data={"csrf": csrf, "pain": "4"}).status_code for _ in range(3)]
    assert codes == [303, 303, 303]
    assert rows_of(database, link.id) == 1


def test_concurrent_sends_store_one_response_on_both_databases(db: Database) -> None:
    Repository(db, user="t").add_patient("RACE-1")
    portal = Portal(db, user="t")
    _token, link = portal.create_link("RACE-1", time_point="month_3")
    session_key, record = WebSessions(db).start(portal_link_id=link.id)
    assert session_key
    result = score("nrs_back", {"pain": 4}, catalogue=load_instruments())
    wanted = ("nrs_back", "nrs_leg", "phq9", "pgic")

    def send(_index: int) -> None:
        response = NewResponse("nrs_back", {"pain": 4}, result.model_dump(mode="json"), portal.now(), "month_3")
        Portal(db, user=link_author(link.id)).submit(link.id, record.id, response, wanted)

    errors = run_threads(8, send)
    assert len(errors) == 7 and all(isinstance(e, AlreadyAnsweredError) for e in errors), errors
    assert rows_of(db, link.id) == 1


def test_the_link_names_the_configured_address_not_the_host_header(database: Database, kb: KnowledgeBase) -> None:
    """Before: the link shown to the clinician (and sent to the patient) took its host from the request."""
    config = WebConfig(secret_key=SECRET, public_url="https://fbss.clinic.example")
    clinician = sign_in(client_for(database, kb, config), "clinician", CLINICIAN_PASSWORD)
    pid = patient_id(database, "DEMO-002")
    token = csrf_of(clinician, f"/patients/{pid}/outcomes")
    response = clinician.post(
        f"/patients/{pid}/portal-links",
        data={"csrf": token, "time_point": "month_3"},
        headers={"host": "attacker.example"},
    )
    assert response.status_code == 200
    assert "https://fbss.clinic.example/portal/open/" in response.text
    assert "attacker.example" not in response.text
