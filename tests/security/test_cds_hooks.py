"""CDS Hooks under attack: the allow list compared as parsed URLs, no user-info, no private addresses by default,
checked redirects and next links, a deadline for slow-drip servers, size limits, a streamed body limit, odd JWT
claims, deep JSON, and card links that never open another patient's record."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from fastapi.testclient import TestClient

from fbss.fhir.cds_hooks import CdsSettings, _HttpError, _json_body
from fbss.fhir.outbound import Location, OutboundPolicy, OutboundRefusedError
from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.fhir.conftest import SERVICE, Signer, bundle, cds_client, hook_request
from tests.security.conftest import SECRET, patient_id
from tests.web.client import sign_in
from tests.web.server import CLINICIAN_PASSWORD, serving

TOKEN = "the-clients-bearer-token"


def internal_service() -> tuple[FastAPI, list[tuple[str, str | None]]]:
    """Records every request it gets, with the Authorization header: nothing should ever arrive."""
    app = FastAPI()
    seen: list[tuple[str, str | None]] = []

    @app.get("/{path:path}")
    async def anything(path: str, request: Request) -> JSONResponse:
        seen.append((str(request.url), request.headers.get("authorization")))
        return JSONResponse({"resourceType": "Bundle", "type": "searchset", "entry": []})

    return app, seen


def call(server: str, patient_id: str = "ce-1", **settings: Any) -> httpx.Response:
    body = {
        "hook": "patient-view",
        "hookInstance": "5b1f8a0e-3b4c-4d5e-8f90-1a2b3c4d5e6f",
        "fhirServer": server,
        "fhirAuthorization": {
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "fbss",
        },
        "context": {"userId": "Practitioner/1", "patientId": patient_id},
    }
    return cds_client(CdsSettings(auth_required=False, **settings)).post(SERVICE, json=body)


# -- the allow list, compared as parsed URLs (high) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "server",
    [
        "http://allowed.test@{internal}/fhir",  # user-info: the host is really the internal address
        "https://ehr.example.org/fhirX",  # a string prefix of the allowed base, not a path under it
        "https://ehr.example.org/fhir/../admin",
        "https://ehr.example.org/fhir/%2e%2e/admin",
        "https://ehr.example.org:8443/fhir",
        "https://ehr.example.org.evil.test/fhir",
        "http://ehr.example.org/fhir",  # another scheme
    ],
)
def test_the_allow_list_is_compared_part_by_part(server: str) -> None:
    """Before: `startswith()` let `http://allowed.test@127.0.0.1:8105`, `/fhirX` and `/fhir/..` through, with the
    client's bearer token."""
    app, seen = internal_service()
    with serving(app) as internal:
        host = internal.removeprefix("http://")
        response = call(server.replace("{internal}", host), allowed_fhir_servers=("https://ehr.example.org/fhir",))
    assert response.status_code == 412
    assert seen == []


def test_allowed_urls_are_recognised_however_they_are_written() -> None:
    base = Location.parse("https://EHR.example.org:443/fhir/")
    for url in ("https://ehr.example.org/fhir", "https://ehr.example.org./fhir/Patient/1?x=1"):
        assert Location.parse(url).under(base)
    with pytest.raises(OutboundRefusedError, match="user names"):
        Location.parse("https://user:pw@ehr.example.org/fhir")


def test_without_an_allow_list_private_addresses_are_refused_and_ports_not_revealed() -> None:
    """Before: with no allow list, the service queried any address, and its errors told open ports from closed."""
    app, seen = internal_service()
    with serving(app) as open_port:
        answers = [
            call(f"{open_port}/fhir"),
            call("http://127.0.0.1:9/fhir"),
            call("http://10.0.0.1/fhir"),
            call("http://[::1]:9/fhir"),
            call("http://169.254.169.254/latest"),
        ]
    assert seen == []
    assert {a.status_code for a in answers} == {412}
    messages = {a.json()["issue"][0]["diagnostics"].split(": ", 1)[1] for a in answers}
    assert len(messages) == 1 and "non-public address" in messages.pop()


def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    async def rebinding(_host: str, _port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]  # one public, one loopback: refused

    policy = OutboundPolicy(resolver=rebinding)
    with pytest.raises(OutboundRefusedError, match="non-public"):
        asyncio.run(policy.address(Location.parse("https://fhir.example.com/r4")))


def test_the_connection_goes_to_the_checked_address() -> None:
    """The name is resolved once: the request goes to that address, with the name as Host (and for TLS)."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(404, json={"resourceType": "OperationOutcome"})

    async def resolver(_host: str, _port: int) -> list[str]:
        return ["93.184.216.34"]

    settings = CdsSettings(auth_required=False)
    client = cds_client(settings, client_factory=lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    client.app.state.cds.policy = OutboundPolicy(resolver=resolver)  # type: ignore[attr-defined]
    body = hook_request(bundle("cauda_equina_after_microdiscectomy"))
    body["prefetch"].pop("patient")
    body["fhirServer"] = "https://fhir.example.com/r4"
    body["fhirAuthorization"] = {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "x",
        "subject": "y",
    }
    client.post(SERVICE, json=body)
    assert requests and all(r.url.host == "93.184.216.34" for r in requests)
    assert {r.headers["host"] for r in requests} == {"fhir.example.com"}
    assert {r.extensions.get("sni_hostname") for r in requests} == {"fhir.example.com"}


# -- next links and redirects ------------------------------------------------------------------------------------


def test_next_links_and_redirects_away_from_the_server_are_not_followed() -> None:
    """Before: a `next` link with user-info (`http://allowed@internal/...`) was followed with the bearer token."""
    internal_app, seen = internal_service()
    with serving(internal_app) as internal:
        ehr = FastAPI()

        @ehr.get("/fhir/Patient/{pid}")
        async def patient(pid: str) -> JSONResponse:
            return JSONResponse({"resourceType": "Patient", "id": pid})

        @ehr.get("/fhir/Procedure")
        async def procedures() -> RedirectResponse:
            return RedirectResponse(f"{internal}/steal")

        @ehr.get("/fhir/{kind}")
        async def search(kind: str, request: Request) -> JSONResponse:
            host = internal.removeprefix("http://")
            return JSONResponse(
                {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [],
                    "link": [
                        {"relation": "next", "url": f"{request.base_url}@{host}/x"},
                        {"relation": "next", "url": f"http://{request.url.netloc}@{host}/x"},
                    ],
                }
            )

        with serving(ehr) as server:
            response = call(f"{server}/fhir", allowed_fhir_servers=(f"{server}/fhir",))
    assert response.status_code == 412  # procedures are required; their query was redirected away
    assert seen == []


# -- slow drip and size (medium) ---------------------------------------------------------------------------------


def dripping_server(chunks: int, pause: float, size: int = 1) -> FastAPI:
    app = FastAPI()

    @app.get("/fhir/{path:path}")
    async def drip(path: str) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b'{"resourceType": "Bundle", "entry": ['
            for _ in range(chunks):
                await asyncio.sleep(pause)
                yield b" " * size

        return StreamingResponse(body(), media_type="application/fhir+json")

    return app


def test_a_slow_drip_server_is_cut_off_at_the_deadline() -> None:
    """Before: one byte every few seconds held a call for over 240 s (per-read time-outs never fired)."""
    with serving(dripping_server(chunks=1000, pause=0.2)) as server:
        started = time.monotonic()
        response = call(
            f"{server}/fhir",
            allowed_fhir_servers=(f"{server}/fhir",),
            fhir_timeout_seconds=1.0,
            fhir_deadline_seconds=1.5,
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 412 and "did not finish within the 1.5 s" in response.text
    assert elapsed < 5


def test_a_huge_response_is_refused_while_it_streams() -> None:
    """Before: no size limit (a 5.3 GB peak)."""
    with serving(dripping_server(chunks=400, pause=0, size=100_000)) as server:
        response = call(f"{server}/fhir", allowed_fhir_servers=(f"{server}/fhir",), fhir_max_response_mb=1.0)
    assert response.status_code == 412 and "larger than 1 MB" in response.text


def test_the_request_body_is_refused_as_it_streams_not_after_buffering() -> None:
    """Before: the whole body was read into memory, then its size checked."""
    sent = [0]

    async def receive() -> dict[str, Any]:
        sent[0] += 1
        return {"type": "http.request", "body": b"x" * 1_000_000, "more_body": sent[0] < 50}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}, receive)
    with pytest.raises(_HttpError) as refused:
        asyncio.run(_json_body(request))
    assert refused.value.status == 413 and sent[0] <= 11


def test_a_declared_oversized_body_is_refused_before_reading(database: Database, kb: KnowledgeBase) -> None:
    client = TestClient(create_app(database, kb, WebConfig(secret_key=SECRET), cds=CdsSettings(auth_required=False)))
    response = client.post(SERVICE, content=b"{}", headers={"content-length": "999999999999"})
    assert response.status_code == 413
    page = client.post("/login", content=b"a=1", headers={"content-length": "50000000"})
    assert page.status_code == 413


def test_deeply_nested_json_is_a_400_not_a_crash() -> None:
    deep = "[" * 3000 + "]" * 3000
    response = cds_client().post(SERVICE, content=deep.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400 and "deeper than" in response.text
    digits = cds_client().post(SERVICE, content=b"9" * 5000, headers={"content-type": "application/json"})
    assert digits.status_code == 400 and "number too long" in digits.text
    body = hook_request(bundle("cauda_equina_after_microdiscectomy"))
    nested: Any = {}
    node = nested
    for _ in range(200):
        node["item"] = [{}]
        node = node["item"][0]
    body["prefetch"]["questionnaireResponses"] = {"resourceType": "Bundle", "entry": [{"resource": nested}]}
    assert cds_client().post(SERVICE, json=body).status_code == 400


# -- client tokens (low) -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claims", [{"exp": 10**400}, {"exp": "soon"}, {"jti": ""}, {"jti": "  "}, {"jti": 5}, {"jti": "x" * 300}]
)
def test_odd_token_claims_are_401_not_500(claims: dict[str, Any]) -> None:
    """Before: `exp=10**400` gave a 500 (float overflow) and `jti: ""` was accepted."""
    signer = Signer()
    client = cds_client(CdsSettings(auth_required=True, issuers=signer.issuers()))
    payload = {"exp": int(time.time()) + 60, "jti": "j-1"} | claims
    token = signer.token("http://testserver" + SERVICE, **payload)
    response = client.post(
        SERVICE,
        json=hook_request(bundle("cauda_equina_after_microdiscectomy")),
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401, response.text


# -- card links (high) ---------------------------------------------------------------------------------------------


def _mounted(database: Database, kb: KnowledgeBase) -> TestClient:
    settings = CdsSettings(auth_required=False, app_base_url="http://testserver")
    return TestClient(create_app(database, kb, WebConfig(secret_key=SECRET), cds=settings), follow_redirects=False)


def _with_record(record: str | None, birth: str, patient_id_in_ehr: str) -> dict[str, Any]:
    data = bundle("cauda_equina_after_microdiscectomy")
    patient = data["entry"][0]["resource"]
    patient["birthDate"] = birth
    if record is not None:
        patient["identifier"] = [
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "system": "urn:oid:1.2.3",
                "value": record,
            }
        ]
    body = hook_request(data)
    old = patient["id"]
    body["context"]["patientId"] = patient["id"] = patient_id_in_ehr
    body["prefetch"]["patient"]["id"] = patient_id_in_ehr
    text = json.dumps(body).replace(f"Patient/{old}", f"Patient/{patient_id_in_ehr}")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_a_card_never_links_to_the_app_patient_with_the_ehrs_id(database: Database, kb: KnowledgeBase) -> None:
    """Before: a card for EHR patient "5" linked to /patients/5/assessment, another person's record in the app."""
    other = str(patient_id(database, "DEMO-003"))
    service = _mounted(database, kb)
    cards = service.post(SERVICE, json=_with_record(None, "1979-03-02", other)).json()["cards"]
    assert cards and all(f"/patients/{other}" not in json.dumps(card) for card in cards)


def test_a_card_links_by_record_number_and_birth_year(database: Database, kb: KnowledgeBase) -> None:
    service = _mounted(database, kb)
    cards = service.post(SERVICE, json=_with_record("DEMO-003", "1972-05-05", "ehr-77")).json()["cards"]
    url = next(link["url"] for link in cards[0]["links"] if link["type"] == "absolute")
    assert url == "http://testserver/patients/lookup?record=DEMO-003&born=1972"
    clinician = sign_in(TestClient(service.app, follow_redirects=False), "clinician", CLINICIAN_PASSWORD)
    opened = clinician.get(url.removeprefix("http://testserver"))
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/patients/{patient_id(database, 'DEMO-003')}/assessment"
    wrong_person = clinician.get("/patients/lookup?record=DEMO-003&born=1990")
    assert wrong_person.status_code == 409 and "Carlos Ibarra" not in wrong_person.text
    assert clinician.get("/patients/lookup?record=NOT-HERE").status_code == 404
    anonymous = TestClient(service.app, follow_redirects=False).get(url.removeprefix("http://testserver"))
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
