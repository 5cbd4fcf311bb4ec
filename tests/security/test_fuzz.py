"""Fuzz targets, one per surface that takes outside input: the case parser, the FHIR importer, the CDS Hooks
request, the web forms, the patient portal and report text. Each input must end in a result or a project error
(FbssError: a message naming the problem); a web request in any status but a 5xx. Budget and long run: fuzz.py."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from fbss.case.parse import parse_case
from fbss.errors import FbssError
from fbss.fhir.cds_hooks import CdsSettings, create_cds_app
from fbss.fhir.importer import import_bundle
from fbss.fhir.outbound import OutboundPolicy
from fbss.knowledge.base import KnowledgeBase
from fbss.nlp import extract
from fbss.store.database import Database
from fbss.store.models import CaseVersion
from fbss.store.portal import Portal
from fbss.store.repository import Repository
from fbss.web import caseform
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.fhir.conftest import SERVICE, hook_request
from tests.security import fuzz
from tests.security.conftest import SECRET
from tests.web.client import CSRF, sign_in
from tests.web.server import CLINICIAN_PASSWORD, prepare

CASES = fuzz.example_cases()
BUNDLES = fuzz.fhir_bundles()


# -- the case parser ----------------------------------------------------------------------------------------------


@fuzz.budget(60)
@given(st.one_of(st.sampled_from(CASES).flatmap(fuzz.broken), fuzz.json_values))
def test_fuzz_case_parser(data: Any) -> None:
    fuzz.tried("case parser")
    for given_as in (data, fuzz.dumps(data)):
        with contextlib.suppress(FbssError):
            parse_case(given_as if isinstance(given_as, str | dict) else fuzz.dumps(given_as))


# -- the FHIR importer ----------------------------------------------------------------------------------------------


@fuzz.budget(30)
@given(st.sampled_from(BUNDLES).flatmap(fuzz.broken), st.booleans())
def test_fuzz_fhir_importer(bundle: Any, as_text: bool) -> None:
    fuzz.tried("FHIR importer")
    with contextlib.suppress(FbssError):
        import_bundle(fuzz.dumps(bundle) if as_text else bundle)


# -- CDS Hooks requests -------------------------------------------------------------------------------------------


async def _public(_host: str, _port: int) -> list[str]:
    return ["93.184.216.34"]  # every name "resolves" to a public address; the transport below answers


@pytest.fixture(scope="module")
def cds() -> Iterator[TestClient]:
    def fhir(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "entry": []})

    app = create_cds_app(
        CdsSettings(auth_required=False), client_factory=lambda: httpx.AsyncClient(transport=httpx.MockTransport(fhir))
    )
    app.state.cds.policy = OutboundPolicy(resolver=_public, deadline=2.0)
    with TestClient(app, raise_server_exceptions=False) as client:  # one event-loop thread for every input
        yield client


CDS_REQUESTS = [hook_request(bundle) for bundle in BUNDLES[:4]]


@fuzz.budget(30)
@given(
    body=st.one_of(st.sampled_from(CDS_REQUESTS).flatmap(fuzz.broken), fuzz.json_values, st.binary(max_size=200)),
    path=st.sampled_from([SERVICE, SERVICE + "/feedback", "/cds-services/other"]),
)
def test_fuzz_cds_hooks_request(cds: TestClient, body: Any, path: str) -> None:
    fuzz.tried("CDS Hooks request")
    content = body if isinstance(body, bytes) else fuzz.dumps(body).encode()
    response = cds.post(path, content=content, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text[:500]


# -- the web forms --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Iterator[tuple[Database, TestClient, int, str]]:
    """The database (in memory-backed /dev/shm when there is one: a long run commits hundreds of thousands of audit
    entries, each synced to disk otherwise), a signed-in clinician, the patient the forms work on, the CSRF token."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="fbss-fuzz-", dir=shm)) if shm.is_dir() else tmp_path_factory.mktemp("fuzz")
    db = prepare(folder, kb)
    app = create_app(db, kb, WebConfig(secret_key=SECRET))
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        sign_in(client, "clinician", CLINICIAN_PASSWORD)
        pid = next(p.id for p in Repository(db, user="fuzz").list_patients() if p.identifier == "DEMO-006")
        yield db, client, pid, _csrf(client)
    db.close()
    shutil.rmtree(folder, ignore_errors=True)


def _csrf(client: TestClient, path: str = "/patients") -> str:
    found = CSRF.search(client.get(path).text)
    assert found
    return found.group(1)


def _sendable(text: str) -> bool:
    """A client encodes form values as UTF-8: no lone surrogates (raw bytes are sent separately, see below)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


form_text = fuzz.odd_text.filter(_sendable)


@st.composite
def web_requests(draw: st.DrawFn, pid: int, version: int, values: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    """(method, path, form) for one of the clinician's forms and pages, with odd values."""
    kind = draw(
        st.sampled_from(["case", "case", "case", "patient", "link", "lookup", "page", "language", "alert", "raw"])
    )
    if kind == "raw":  # bytes no browser would send: invalid UTF-8, stray percent signs, huge field names
        return "RAW", f"/patients/{pid}/case/new", {"body": draw(st.binary(max_size=300)).decode("latin-1")}
    if kind == "case":
        form = dict(values)
        names = [*sorted(values), "diagnostics-3-finding", "diagnostics-99999-finding", "labs.crp"]
        for name in draw(st.lists(st.sampled_from(names), max_size=6)):
            form[name] = draw(form_text)
        for _ in range(draw(st.integers(0, 2))):
            form[draw(form_text)] = draw(form_text)
        form["go"] = draw(
            st.one_of(st.sampled_from([*caseform.STEP_IDS, "save", "read_report", "apply_report"]), form_text)
        )
        form["_step"] = draw(st.one_of(st.sampled_from(caseform.STEP_IDS), form_text))
        form["_base"] = draw(st.one_of(st.just(json.dumps({"_version": version})), form_text))
        form["_proposals"] = draw(st.one_of(form_text, st.just('[{"code": "stenosis", "key": "0", "choosable": 1}]')))
        form["report_text"] = draw(st.one_of(st.just(""), form_text))
        return "POST", f"/patients/{pid}/case/new", form
    if kind == "patient":
        identifier = draw(st.one_of(st.just("DEMO-001"), form_text.map(lambda t: t + " x")))
        return (
            "POST",
            "/patients",
            {"identifier": identifier, "display_name": draw(form_text), "birth_year": draw(form_text)},
        )
    if kind == "link":
        return (
            "POST",
            f"/patients/{pid}/portal-links",
            {"time_point": draw(st.one_of(st.just("month_3"), form_text)), "days": draw(form_text)},
        )
    if kind == "alert":
        return "POST", f"/alerts/{draw(st.integers(-10, 2**70))}/acknowledge", {"back": draw(form_text)}
    if kind == "lookup":
        return "GET", f"/patients/lookup?record={quote(draw(form_text))}&born={quote(draw(form_text))}", {}
    if kind == "language":
        return "GET", f"/language/{quote(draw(form_text), safe='')}?next={quote(draw(form_text))}", {}
    page = draw(st.sampled_from(["assessment", "history", "outcomes", "case/new"]))
    query = quote(draw(form_text))
    target = draw(st.one_of(st.just(str(pid)), form_text.map(lambda t: quote(t, safe=""))))
    return "GET", f"/patients/{target}/{page}?version={query}&step={query}", {}


@fuzz.budget(40)
@given(data=st.data())
def test_fuzz_web_forms(web: tuple[Database, TestClient, int, str], data: st.DataObject) -> None:
    db, client, pid, csrf = web
    fuzz.tried("web forms")
    with db.read_sessions() as session:  # the newest version, read without an audit entry of the harness's own
        record = session.scalars(
            select(CaseVersion).where(CaseVersion.patient_id == pid).order_by(CaseVersion.version.desc()).limit(1)
        ).one()
    method, path, form = data.draw(web_requests(pid, record.version, caseform.values_from_case(record.case_json)))
    if method == "RAW":
        body = f"csrf={csrf}&".encode() + form["body"].encode("latin-1")
        response = client.post(path, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    elif method == "POST":
        form["csrf"] = csrf
        response = client.post(path, data=form)
    else:
        response = client.get(path)
    assert response.status_code < 500, (method, path, response.status_code)


# -- the patient portal ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portal(web: tuple[Database, TestClient, int, str]) -> Iterator[dict[str, Any]]:
    """A patient's browser on a fresh link (renewed when one is finished) and a stranger's browser."""
    db, signed_in, _pid, _csrf_token = web
    options: dict[str, Any] = {"follow_redirects": False, "raise_server_exceptions": False}
    with TestClient(signed_in.app, **options) as patient, TestClient(signed_in.app, **options) as stranger:
        state = {"db": db, "client": patient, "stranger": stranger, "csrf": ""}
        _open_portal(state)
        yield state


def _open_portal(state: dict[str, Any]) -> None:
    token, _link = Portal(state["db"], user="fuzz").create_link("DEMO-002", time_point="month_3")
    client: TestClient = state["client"]
    client.cookies.clear()
    client.get(f"/portal/open/{token}")
    state["csrf"] = _csrf(client, "/portal/q/nrs_back")


@fuzz.budget(40)
@given(
    instrument=st.one_of(st.sampled_from(["nrs_back", "nrs_leg", "phq9", "pgic", "gad7", "odi"]), form_text),
    answers=st.dictionaries(
        st.one_of(st.sampled_from([f"item{i}" for i in range(1, 10)] + ["pain", "rating"]), form_text),
        form_text,
        max_size=10,
    ),
    token=form_text,
)
def test_fuzz_portal(portal: dict[str, Any], instrument: str, answers: dict[str, str], token: str) -> None:
    fuzz.tried("patient portal")
    client: TestClient = portal["client"]
    response = client.post(f"/portal/q/{quote(instrument, safe='')}", data={**answers, "csrf": portal["csrf"]})
    assert response.status_code < 500, (instrument, response.status_code)
    if response.status_code == 403:
        _open_portal(portal)  # the link was finished (or closed): a new one for the next input
    stranger: TestClient = portal["stranger"]
    stranger.cookies.clear()
    assert stranger.get(f"/portal/open/{quote(token, safe='')}").status_code < 500


# -- report text -----------------------------------------------------------------------------------------------------


@fuzz.budget(40)
@given(fuzz.report_text)
def test_fuzz_report_text(text: str) -> None:
    fuzz.tried("report text")
    try:
        result = extract(text)
    except FbssError:
        return
    assert all(text[f.span.start : f.span.end] == f.span.text for f in result.findings)
