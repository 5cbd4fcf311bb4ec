"""A small but real EHR for SMART App Launch tests, on loopback: a launcher (the chart's "open app" button), an
OAuth 2.0 authorisation server (authorization code with PKCE S256, state, launch context, scopes, single-use codes,
exact redirect URIs) and a FHIR R4 server that answers only with a valid bearer token, only for the patient in
context and only for the resource types the token's scopes grant.

It implements the server side of the protocol independently of the app: nothing here imports the app's code.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from tests.web.server import free_port

CHARTS = Path(__file__).resolve().parent / "charts"
REFERENCE_DAY = dt.date(2026, 10, 1)  # chart dates are written relative to this day and shifted to today
CLIENT_ID = "fbss-navigator"
PAGE_SIZE = 4  # small, so that searches page
SUPPORTED = {
    "launch",
    "openid",
    "fhirUser",
    *(
        f"patient/{kind}.{access}"
        for kind in (
            "Patient",
            "Condition",
            "Procedure",
            "Observation",
            "MedicationRequest",
            "MedicationStatement",
            "AllergyIntolerance",
            "DiagnosticReport",
            "DocumentReference",
            "QuestionnaireResponse",
            "Binary",
        )
        for access in ("r", "rs")
    ),
}
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def pkce_s256(verifier: str) -> str:
    """RFC 7636 section 4.2, written here on its own so the test does not trust the app's version."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _shift(value: Any, days: int) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, str) and (match := _DATE.match(value)):
        moved = dt.date.fromisoformat(match.group(1)) + dt.timedelta(days=days)
        return moved.isoformat() + value[10:]
    return value


@dataclass
class Ehr:
    url: str = ""
    redirect_uris: set[str] = field(default_factory=set)
    withheld_scopes: set[str] = field(default_factory=set)  # scopes the "user" declines at authorisation
    patients: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    binaries: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    launches: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # method and path of every FHIR request, for assertions

    @property
    def fhir(self) -> str:
        return self.url + "/fhir"

    def load_chart(self, name: str) -> str:
        """Load tests/smart/charts/NAME.json (dates shifted to today); return the patient id."""
        bundle = json.loads((CHARTS / f"{name}.json").read_text(encoding="utf-8"))
        bundle = _shift(bundle, (dt.date.today() - REFERENCE_DAY).days)
        resources = [copy.deepcopy(e["resource"]) for e in bundle["entry"]]
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        for resource in resources:
            if resource["resourceType"] == "Binary":
                self.binaries[resource["id"]] = (resource["contentType"], base64.b64decode(resource["data"]))
        self.patients[patient["id"]] = [r for r in resources if r["resourceType"] != "Binary"]
        return str(patient["id"])


def _oauth_error(redirect_uri: str, state: str | None, error: str) -> RedirectResponse:
    query = {"error": error, **({"state": state} if state else {})}
    return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)


def create_ehr(ehr: Ehr) -> FastAPI:
    app = FastAPI()

    @app.get("/launcher")
    def launcher(patient: str, app_launch_url: str) -> Response:
        """The EHR's button: a launch context for this patient, and the app opened with iss and launch."""
        launch = secrets.token_urlsafe(16)
        ehr.launches[launch] = {"patient": patient, "expires": time.time() + 300}
        return RedirectResponse(f"{app_launch_url}?{urlencode({'iss': ehr.fhir, 'launch': launch})}", status_code=302)

    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration() -> dict[str, Any]:
        return {
            "issuer": ehr.url,
            "authorization_endpoint": ehr.url + "/auth/authorize",
            "token_endpoint": ehr.url + "/auth/token",
            "token_endpoint_auth_methods_supported": ["none"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": sorted(SUPPORTED),
            "response_types_supported": ["code"],
            "capabilities": ["launch-ehr", "client-public", "context-ehr-patient", "permission-v2"],
            "code_challenge_methods_supported": ["S256"],
        }

    @app.get("/auth/authorize")
    def authorize(request: Request) -> Response:
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID or redirect_uri not in ehr.redirect_uris:
            return PlainTextResponse("unknown client or redirect_uri", status_code=400)  # never redirect then
        state = q.get("state")
        if not state:
            return _oauth_error(redirect_uri, None, "invalid_request")
        if q.get("response_type") != "code" or q.get("aud") != ehr.fhir:
            return _oauth_error(redirect_uri, state, "invalid_request")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43:
            return _oauth_error(redirect_uri, state, "invalid_request")
        context = ehr.launches.pop(q.get("launch", ""), None)
        scopes = set(q.get("scope", "").split())
        if context is None or context["expires"] < time.time() or "launch" not in scopes:
            return _oauth_error(redirect_uri, state, "invalid_request")
        granted = (scopes & SUPPORTED) - ehr.withheld_scopes
        code = secrets.token_urlsafe(24)
        ehr.codes[code] = {
            "redirect_uri": redirect_uri,
            "challenge": q["code_challenge"],
            "patient": context["patient"],
            "scope": " ".join(sorted(granted)),
            "expires": time.time() + 60,
        }
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

    @app.post("/auth/token")
    def token(
        grant_type: str = Form(""),
        code: str = Form(""),
        redirect_uri: str = Form(""),
        client_id: str = Form(""),
        code_verifier: str = Form(""),
    ) -> JSONResponse:
        issued = ehr.codes.pop(code, None)  # single use, whatever happens next
        if grant_type != "authorization_code" or client_id != CLIENT_ID:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        if issued is None or issued["expires"] < time.time() or issued["redirect_uri"] != redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if not 43 <= len(code_verifier) <= 128 or pkce_s256(code_verifier) != issued["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400)
        access = secrets.token_urlsafe(32)
        ehr.tokens[access] = {"patient": issued["patient"], "scope": set(issued["scope"].split())}
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": issued["scope"],
            "patient": issued["patient"],
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def _granted(request: Request, kind: str, search: bool) -> dict[str, Any] | Response:
        header = request.headers.get("authorization", "")
        grant = ehr.tokens.get(header.removeprefix("Bearer ").strip()) if header.startswith("Bearer ") else None
        if grant is None:
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        allowed = {f"patient/{kind}.rs"} | (set() if search else {f"patient/{kind}.r"})
        if not grant["scope"] & allowed:
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=403)
        return grant

    @app.get("/fhir/Patient/{patient_id}")
    def read_patient(patient_id: str, request: Request) -> Response:
        ehr.requests.append(f"GET Patient/{patient_id}")
        grant = _granted(request, "Patient", search=False)
        if isinstance(grant, Response):
            return grant
        if grant["patient"] != patient_id:
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=403)
        patient = next(r for r in ehr.patients[patient_id] if r["resourceType"] == "Patient")
        return JSONResponse(patient, media_type="application/fhir+json")

    @app.get("/fhir/Binary/{binary_id}")
    def read_binary(binary_id: str, request: Request) -> Response:
        ehr.requests.append(f"GET Binary/{binary_id}")
        grant = _granted(request, "DocumentReference", search=True)
        if isinstance(grant, Response):
            return grant
        kind, data = ehr.binaries[binary_id]
        return Response(data, media_type=kind)

    @app.get("/fhir/{kind}")
    def search(kind: str, request: Request, patient: str = "", page: int = 0) -> Response:
        ehr.requests.append(f"GET {kind}?patient={patient}")
        grant = _granted(request, kind, search=True)
        if isinstance(grant, Response):
            return grant
        if patient != grant["patient"]:
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=403)
        found = [r for r in ehr.patients.get(patient, []) if r["resourceType"] == kind]
        chunk = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        links = [{"relation": "self", "url": f"{ehr.fhir}/{kind}?patient={patient}&page={page}"}]
        if (page + 1) * PAGE_SIZE < len(found):
            links.append({"relation": "next", "url": f"{ehr.fhir}/{kind}?patient={patient}&page={page + 1}"})
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "link": links,
            "entry": [
                {"fullUrl": f"{ehr.fhir}/{kind}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in chunk
            ],
        }
        return JSONResponse(bundle, media_type="application/fhir+json")

    return app


@contextmanager
def serving(app: FastAPI, port: int) -> Iterator[None]:
    """An ASGI app served by uvicorn on 127.0.0.1:port in a background thread, until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def running_ehr() -> Iterator[Ehr]:
    """The EHR on 127.0.0.1 with a random port, in a background thread."""
    ehr = Ehr()
    port = free_port()
    ehr.url = f"http://127.0.0.1:{port}"
    with serving(create_ehr(ehr), port):
        yield ehr
