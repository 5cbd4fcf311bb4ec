"""Access control, CSRF, cookies, password and token storage, audit entries, and logs without patient data."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.store.models import AuditEntry, PortalLink, User
from fbss.store.portal import Portal
from fbss.web import demo
from fbss.web.config import WebConfig
from tests.web.client import csrf_of, sign_in
from tests.web.roles import SECRET, client_for, patient_id
from tests.web.server import ADMIN_PASSWORD, CLINICIAN_PASSWORD


@pytest.fixture(scope="module")
def app_config() -> WebConfig:
    return WebConfig(secret_key=SECRET)


def portal_client(db: Database, kb: KnowledgeBase, identifier: str = "DEMO-002") -> TestClient:
    token, _link = Portal(db, user="test").create_link(identifier, time_point="baseline")
    client = client_for(db, kb)
    assert client.get(f"/portal/open/{token}").status_code == 303
    return client


def patient_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route that reads or changes a patient record."""
    from fbss.web import clinic, lookup

    routes = []
    for route in [*clinic.router.routes, *lookup.router.routes]:
        assert isinstance(route, APIRoute)
        for method in route.methods:
            routes.append((method, route.path))
    return sorted(routes)


def fill(path: str, pid: int) -> str:
    return (
        path.replace("{patient_id}", str(pid))
        .replace("{link_id}", "1")
        .replace("{alert_id}", "1")
        .replace("{fmt}", "html")
    )


NAMES = [name for _, name, _, _ in demo.PATIENTS]
RECORD_NUMBERS = [identifier for identifier, _, _, _ in demo.PATIENTS]


def no_patient_data(text: str) -> bool:
    return not any(value in text for value in NAMES + RECORD_NUMBERS)


ROUTES = patient_routes()


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_anonymous_cannot_reach_patient_routes(
    anonymous: TestClient, database: Database, method: str, path: str
) -> None:
    url = fill(path, patient_id(database))
    token = csrf_of(anonymous)
    response = anonymous.request(method, url, data={"csrf": token} if method == "POST" else None)
    assert response.status_code in (303, 403)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login")
    assert no_patient_data(response.text)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_admin_cannot_reach_patient_routes(admin: TestClient, database: Database, method: str, path: str) -> None:
    url = fill(path, patient_id(database))
    token = csrf_of(admin, "/admin/users")
    response = admin.request(method, url, data={"csrf": token} if method == "POST" else None)
    assert response.status_code == 403
    assert no_patient_data(response.text)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_portal_link_cannot_reach_patient_routes(database: Database, kb: KnowledgeBase, method: str, path: str) -> None:
    client = portal_client(database, kb)
    token = csrf_of(client, "/portal/q/nrs_back")
    url = fill(path, patient_id(database, "DEMO-002"))
    response = client.request(method, url, data={"csrf": token} if method == "POST" else None)
    assert response.status_code in (303, 403)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login")
    assert no_patient_data(response.text)


def test_clinician_reaches_patient_pages(clinician: TestClient, database: Database) -> None:
    pid = patient_id(database)
    for path in (
        "/patients",
        f"/patients/{pid}/assessment",
        f"/patients/{pid}/history",
        f"/patients/{pid}/outcomes",
        f"/patients/{pid}/case/new",
    ):
        response = clinician.get(path)
        assert response.status_code == 200, path
    assert "Alex Moreno" in clinician.get(f"/patients/{pid}/assessment").text


def test_clinician_cannot_reach_admin_pages(clinician: TestClient) -> None:
    for path in ("/admin/users", "/admin/audit"):
        assert clinician.get(path).status_code == 403


def test_portal_shows_nothing_of_the_record(database: Database, kb: KnowledgeBase) -> None:
    client = portal_client(database, kb, "DEMO-001")
    page = client.get("/portal")
    assert page.status_code == 200
    assert no_patient_data(page.text)
    assert "not read in real time" in page.text
    form = client.get("/portal/q/phq9")
    assert form.status_code == 200 and no_patient_data(form.text)
    assert client.get("/portal/q/odi").status_code == 303  # not one of this link's questionnaires


def test_every_post_route_needs_the_csrf_token(clinician: TestClient, admin: TestClient, database: Database) -> None:
    from fbss.web import admin as admin_pages
    from fbss.web import auth, clinic, patient_portal

    routers = (auth.router, clinic.router, patient_portal.router, admin_pages.router)
    posts = [r.path for router in routers for r in router.routes if isinstance(r, APIRoute) and "POST" in r.methods]
    assert len(posts) >= 9
    pid = patient_id(database)
    for path in posts:
        url = fill(path, pid).replace("{user_id}", "1").replace("{instrument_id}", "phq9")
        client = admin if path.startswith("/admin") else clinician
        for data in ({}, {"csrf": "forged"}):
            response = client.post(url, data=data)
            assert response.status_code == 403, (path, data, response.status_code)


def test_session_cookie_flags(anonymous: TestClient, database: Database, kb: KnowledgeBase) -> None:
    cookie = anonymous.get("/login").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie
    secure = client_for(database, kb, WebConfig(secret_key=SECRET, secure_cookies=True))
    assert "Secure" in secure.get("/login").headers["set-cookie"]


def test_a_forged_or_foreign_cookie_is_not_a_session(database: Database, kb: KnowledgeBase) -> None:
    signed_in = sign_in(client_for(database, kb), "clinician", CLINICIAN_PASSWORD)
    cookie = signed_in.cookies.get("fbss_session")
    assert cookie
    other = client_for(database, kb, WebConfig(secret_key="another-secret-" + "z" * 40))
    other.cookies.set("fbss_session", cookie)
    assert other.get("/patients").status_code == 303
    tampered = client_for(database, kb)
    payload, mac = cookie.split(".")
    tampered.cookies.set("fbss_session", payload[:-2] + "xx." + mac)
    assert tampered.get("/patients").status_code == 303


def test_passwords_and_tokens_are_stored_hashed(database: Database) -> None:
    with database.sessions() as session:
        hashes = session.scalars(select(User.password_hash)).all()
        tokens = session.scalars(select(PortalLink.token_hash)).all()
    assert hashes and all(h.startswith("scrypt$16384$8$1$") for h in hashes)
    assert not any(CLINICIAN_PASSWORD in h or ADMIN_PASSWORD in h for h in hashes)
    assert all(re.fullmatch(r"[0-9a-f]{64}", t) for t in tokens)


def test_wrong_password_is_refused_and_audited(anonymous: TestClient, database: Database) -> None:
    token = csrf_of(anonymous)
    response = anonymous.post("/login", data={"csrf": token, "username": "clinician", "password": "wrong-password"})
    assert response.status_code == 401
    with database.sessions() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)).all()
    assert actions == ["login_failed"]


def test_portal_link_is_single_use_revocable_and_expires(database: Database, kb: KnowledgeBase) -> None:
    portal = Portal(database, user="clinician")
    token, link = portal.create_link("DEMO-005", time_point="baseline")
    portal.revoke_link("DEMO-005", link.id)
    assert client_for(database, kb).get(f"/portal/open/{token}").status_code == 403
    clock_now = portal.now()
    later = Portal(database, user="clinician", clock=lambda: clock_now + dt.timedelta(days=15))
    token, _ = portal.create_link("DEMO-005", time_point="baseline")
    assert later.resolve(token) is None  # expired after 14 days
    token, link = portal.create_link("DEMO-005", time_point="baseline")
    portal.use_link(link.id)
    assert client_for(database, kb).get(f"/portal/open/{token}").status_code == 403


def test_views_and_edits_are_audited(clinician: TestClient, database: Database) -> None:
    pid = patient_id(database, "DEMO-004")
    with database.sessions() as session:
        before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    assert clinician.get(f"/patients/{pid}/assessment").status_code == 200
    assert clinician.get(f"/patients/{pid}/reports/clinician.html").status_code == 200
    token = csrf_of(clinician, "/patients")
    assert clinician.post("/patients", data={"csrf": token, "identifier": "AUDIT-1"}).status_code == 303
    with database.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
    seen = {(e.who, e.action, e.entity, e.patient_id) for e in entries}
    assert ("clinician", "read", "assessment", pid) in seen
    assert ("clinician", "export", "assessment", pid) in seen
    assert any(e.who == "clinician" and e.action == "create" and e.entity == "patient" for e in entries)


def test_logs_hold_no_patient_data(
    database: Database, kb: KnowledgeBase, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """A full walk (sign-in, list, search, every page of a patient, a saved case, reports, portal) logs route
    templates and status codes only."""
    caplog.set_level(logging.DEBUG)
    client = sign_in(client_for(database, kb), "clinician", CLINICIAN_PASSWORD)
    pid = patient_id(database, "DEMO-006")
    client.get("/patients?q=Lindqvist")
    for path in ("assessment", "history", "outcomes", "case/new", "case/new?step=imaging", "reports/clinician.html"):
        client.get(f"/patients/{pid}/{path}")
    token = csrf_of(client, f"/patients/{pid}/case/new")
    page = client.get(f"/patients/{pid}/case/new").text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    fields.update(
        {
            "csrf": token,
            "go": "save",
            "_step": "surgery",
            "index_surgery.type": "microdiscectomy",
            "note": "Frank Lindqvist DEMO-006 follow-up",
        }
    )
    client.post(f"/patients/{pid}/case/new", data=fields)
    portal = portal_client(database, kb, "DEMO-006")
    portal.get("/portal")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "/patients/{patient_id}/assessment" in text
    assert no_patient_data(text), [line for line in text.splitlines() if not no_patient_data(line)]
