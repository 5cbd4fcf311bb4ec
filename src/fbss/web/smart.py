"""SMART App Launch from the EHR: /smart/launch (the EHR opens it with iss and launch) sends the browser to the EHR to
authorise; /smart/callback exchanges the code, reads the chart through FHIR and opens the case form prefilled, each
imported value marked with where it came from, for the clinician to confirm and complete.

The launch needs a signed-in clinician (the sign-in page comes first, then the launch goes on). Between the two
requests the state, PKCE verifier and EHR are kept in a short-lived encrypted cookie bound to the clinician; the
access token is used during the callback only and never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict
from typing import Any

import httpx
from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from fbss.errors import FbssError
from fbss.fhir.importer import CaseDraft, NotApplicableError, import_draft
from fbss.fhir.smart import (
    Chart,
    PendingLaunch,
    SmartError,
    SmartSettings,
    begin,
    discover,
    exchange,
    patient_identity,
    read_chart,
)
from fbss.store.errors import StoreError
from fbss.store.repository import Repository
from fbss.web import caseform, clinic, reading
from fbss.web.services import ClinicianUser, RefusedError, Services, services

router = APIRouter()
COOKIE = "fbss_smart"
MAX_AGE_SECONDS = 600
MAX_PROPOSALS = 60
EXPIRED = "This launch has expired or was already used: launch the app again from the EHR."


def settings_of(request: Request) -> SmartSettings:
    found = getattr(request.app.state, "smart", None)
    if not isinstance(found, SmartSettings) or not found.clients:
        raise RefusedError("SMART launch is not set up: an administrator registers the EHR (FBSS_SMART_CLIENTS).", 400)
    return found


def _fernet(svc: Services) -> Fernet:
    key = hashlib.sha256(("fbss-smart-launch:" + svc.config.secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _client(settings: SmartSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout_seconds), follow_redirects=False)


@router.get("/smart/launch")
async def launch(request: Request, user: ClinicianUser, iss: str = "", launch: str = "") -> Response:
    settings = settings_of(request)
    if not iss or not launch:
        raise RefusedError("The EHR opens this address with 'iss' and 'launch': start from the patient's chart.", 400)
    try:
        smart = settings.client_for(iss)
        async with _client(settings) as client:
            endpoints = await discover(client, smart.iss)
    except SmartError as exc:
        raise RefusedError(f"The EHR launch could not start: {exc}.", 400) from None
    url, pending = begin(settings, smart, endpoints, launch[:2000], user.id, time.time())
    response = RedirectResponse(url, status_code=302)
    sealed = _fernet(services(request)).encrypt(json.dumps(asdict(pending)).encode()).decode()
    response.set_cookie(
        COOKIE,
        sealed,
        max_age=MAX_AGE_SECONDS,
        path="/smart",
        httponly=True,
        samesite="lax",
        secure=services(request).config.secure_cookies,
    )
    return response


def _pending(request: Request, user_id: int, state: str) -> PendingLaunch:
    sealed = request.cookies.get(COOKIE)
    if not sealed:
        raise RefusedError(EXPIRED, 400)
    try:
        data = json.loads(_fernet(services(request)).decrypt(sealed.encode(), ttl=MAX_AGE_SECONDS))
        pending = PendingLaunch(**data)
    except (InvalidToken, ValueError, TypeError):
        raise RefusedError(EXPIRED, 400) from None
    if pending.user_id != user_id or not hmac.compare_digest(pending.state.encode(), state.encode()):
        raise RefusedError("The EHR's answer does not belong to this launch (state mismatch): launch again.", 400)
    return pending


@router.get("/smart/callback")
async def callback(
    request: Request,
    user: ClinicianUser,
    code: str = "",
    state: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    settings = settings_of(request)
    if error:
        raise RefusedError(f"The EHR did not authorise the app: {error} {error_description[:300]}".strip(), 400)
    pending = _pending(request, user.id, state)
    try:
        async with _client(settings) as client:
            grant = await exchange(client, settings, pending, code)
            chart = await read_chart(client, grant)
    except SmartError as exc:
        raise RefusedError(f"The chart could not be read: {exc}.", 400) from None
    except httpx.HTTPError as exc:
        why = f"the EHR did not answer ({type(exc).__name__})"
        raise RefusedError(f"The chart could not be read: {why}.", 400) from None
    response = await run_in_threadpool(_open_draft, request, user.username, chart, grant.iss)
    response.delete_cookie(COOKIE, path="/smart")
    return response


def _open_draft(request: Request, username: str, chart: Chart, iss: str) -> Response:
    svc = services(request)
    repo = Repository(svc.db, user=username, clock=svc.clock)
    patient = next(r for _, r in chart.resources if isinstance(r, dict) and r.get("resourceType") == "Patient")
    number, display, birth_year = patient_identity(patient)
    try:
        draft = import_draft(chart.resources, assessment_date=svc.today(), case_id=clinic.case_id_for(number))
    except NotApplicableError as exc:
        raise RefusedError(f"FBSS Navigator cannot assess this patient: {exc}", 400) from None
    except FbssError as exc:
        raise RefusedError(f"The chart could not be turned into a case draft: {exc}", 400) from None
    try:
        summary = repo.patient(number)
    except StoreError:
        repo.add_patient(number, display_name=display, birth_year=birth_year)
        summary = repo.patient(number)
    values = caseform.values_from_case(draft.data)
    values["assessment_date"] = values.get("assessment_date") or svc.today().isoformat()
    marks = _marks(draft)
    values[clinic.IMPORTED_FIELD] = json.dumps(marks, separators=(",", ":"))
    proposals = _document_proposals(draft)
    values[clinic.CHART_PROPOSALS_FIELD] = json.dumps(proposals, separators=(",", ":"))
    notice = _notice(draft, chart, iss, len(marks), len(proposals))
    return clinic.form_page(request, summary.patient, "surgery", values, draft.data, {}, notice=notice)


def _marks(draft: CaseDraft) -> dict[str, str]:
    """Form field -> where its value came from, for every field the chart filled."""
    marks: dict[str, str] = {}
    for path, where in draft.sources.items():
        if path in caseform.BY_NAME or path.startswith("labs."):
            marks[path] = where
        elif "-" in path:
            kind, _, index = path.partition("-")
            if kind in caseform.ROW_KEY:
                marks[f"{kind}-{index}-{caseform.ROW_KEY[kind]}"] = where
        elif path == "index_surgery":
            marks["index_surgery.type"] = where
    return marks


def _document_proposals(draft: CaseDraft) -> list[dict[str, Any]]:
    proposals: list[dict[str, Any]] = []
    for document in draft.documents:
        when = f", {document.date.isoformat()}" if document.date else ""
        for proposal in reading.propose(document.text).proposals:
            proposal["section"] = f"{document.title}{when} ({document.source}), {proposal['section']}"
            proposal["key"] = str(len(proposals))
            proposals.append(proposal)
            if len(proposals) >= MAX_PROPOSALS:
                return proposals
    return proposals


def _notice(draft: CaseDraft, chart: Chart, iss: str, filled: int, proposed: int) -> str:
    parts = [f"From the chart at {iss}: {filled} answer(s) filled in, each marked “from the chart”; check them."]
    if "index_surgery" not in draft.data:
        parts.append("The chart names no spine operation: enter the index operation.")
    if proposed:
        parts.append(f"{proposed} finding(s) read from the chart's documents wait for you in step 5.")
    parts += [w for w in draft.report.warnings if "deceased" in w]
    if chart.missing:
        parts.append("Not read: " + "; ".join(chart.missing) + ".")
    return " ".join(parts)
