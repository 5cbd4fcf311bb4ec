"""No prefetch: the service queries a stub FHIR server on loopback with the client's token, pages included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from fbss.fhir.cds_hooks import CdsSettings
from tests.fhir.conftest import SERVICE, bundle, card_of, cds_client
from tests.web.server import serving

TOKEN = "stub-access-token"
PAGE = 2


def stub_fhir_app(patients: dict[str, dict[str, Any]]) -> tuple[FastAPI, list[str]]:
    """A tiny FHIR server: read Patient/{id}, search {type}?patient={id} in pages of two; needs the bearer token."""
    app = FastAPI()
    seen: list[str] = []
    resources: dict[str, list[dict[str, Any]]] = {}
    for pid, data in patients.items():
        resources[pid] = [e["resource"] for e in data["entry"]]

    @app.get("/fhir/Patient/{pid}")
    async def read(pid: str, request: Request) -> JSONResponse:
        seen.append(str(request.url))
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        patient = next((r for r in resources.get(pid, []) if r["resourceType"] == "Patient"), None)
        return JSONResponse(patient or {"resourceType": "OperationOutcome"}, status_code=200 if patient else 404)

    @app.get("/fhir/{kind}")
    async def search(kind: str, patient: str, request: Request, page: int = 1) -> JSONResponse:
        seen.append(str(request.url))
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        if patient == "slow-1" and kind == "Observation":
            await asyncio.sleep(2)
        if patient == "broken-1" and kind == "MedicationStatement":
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=500)
        matches = [r for r in resources.get(patient, []) if r["resourceType"] == kind]
        chunk = matches[(page - 1) * PAGE : page * PAGE]
        body: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matches),
            "entry": [
                {"fullUrl": f"{request.base_url}fhir/{kind}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                for r in chunk
            ],
        }
        if page * PAGE < len(matches):
            body["link"] = [
                {"relation": "next", "url": f"{request.base_url}fhir/{kind}?patient={patient}&page={page + 1}"}
            ]
        return JSONResponse(body, media_type="application/fhir+json")

    return app, seen


def _renamed(name: str, pid: str) -> dict[str, Any]:
    data = bundle(name)
    old = data["entry"][0]["resource"]["id"]
    for entry in data["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["id"] = pid
        for key in ("subject", "patient"):
            if key in resource and resource[key]["reference"] == f"Patient/{old}":
                resource[key] = {"reference": f"Patient/{pid}"}
    return data


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[tuple[str, list[str]]]:
    patients = {
        "rdh-1": bundle("recurrent_herniation_after_microdiscectomy"),
        "slow-1": _renamed("cauda_equina_after_microdiscectomy", "slow-1"),
        "broken-1": _renamed("cauda_equina_after_microdiscectomy", "broken-1"),
    }
    app, seen = stub_fhir_app(patients)
    with serving(app) as url:
        yield f"{url}/fhir", seen


def request(pid: str, server: str, token: str | None = TOKEN) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "fhirServer": server,
        "context": {"userId": "Practitioner/example", "patientId": pid},
    }
    if token:
        body["fhirAuthorization"] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "fbss-navigator",
        }
    return body


def stub_client(server: str, **settings: Any) -> TestClient:
    """The service with the stub server on its allow list (a loopback address is refused otherwise)."""
    return cds_client(CdsSettings(auth_required=False, allowed_fhir_servers=(server,), **settings))


def test_without_prefetch_the_service_fetches_everything(fhir_server: tuple[str, list[str]]) -> None:
    server, seen = fhir_server
    seen.clear()
    response = stub_client(server).post(SERVICE, json=request("rdh-1", server))
    assert response.status_code == 200, response.text
    differential = card_of(response.json()["cards"], "differential")
    assert differential["summary"].startswith("Most likely cause: Recurrent disc herniation")
    assert any(url.endswith("/fhir/Patient/rdh-1") for url in seen)
    assert any("Observation?patient=rdh-1&page=2" in url for url in seen)  # the next page was followed


def test_partial_prefetch_is_completed_from_the_server(fhir_server: tuple[str, list[str]]) -> None:
    server, seen = fhir_server
    seen.clear()
    body = request("rdh-1", server)
    data = bundle("recurrent_herniation_after_microdiscectomy")
    body["prefetch"] = {"patient": data["entry"][0]["resource"], "medications": None}
    response = stub_client(server).post(SERVICE, json=body)
    assert response.status_code == 200
    assert not any("/Patient/" in url or "MedicationStatement" in url for url in seen)
    assert any("Procedure?patient=rdh-1" in url for url in seen)


def test_a_rejected_token_means_412(fhir_server: tuple[str, list[str]]) -> None:
    server, _ = fhir_server
    response = stub_client(server).post(SERVICE, json=request("rdh-1", server, token="wrong"))
    assert response.status_code == 412
    assert "HTTP 401" in response.json()["issue"][0]["diagnostics"]


def test_an_unknown_patient_means_412(fhir_server: tuple[str, list[str]]) -> None:
    server, _ = fhir_server
    response = stub_client(server).post(SERVICE, json=request("nobody", server))
    assert response.status_code == 412 and "not found" in response.text


def test_a_failing_optional_query_is_named_on_the_card(fhir_server: tuple[str, list[str]]) -> None:
    server, _ = fhir_server
    response = stub_client(server).post(SERVICE, json=request("broken-1", server))
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert cards[0]["indicator"] == "critical"
    assert "Not available to this assessment:** medications" in card_of(cards, "differential")["detail"]


def test_a_slow_server_times_out(fhir_server: tuple[str, list[str]]) -> None:
    server, _ = fhir_server
    client = stub_client(server, fhir_timeout_seconds=0.3)
    started = time.monotonic()
    response = client.post(SERVICE, json=request("slow-1", server))
    assert time.monotonic() - started < 1.5
    assert response.status_code == 200  # observations are optional: assessed without them, and said so
    assert "observations" in card_of(response.json()["cards"], "differential")["detail"]


def test_an_unreachable_server_means_412() -> None:
    response = stub_client("http://127.0.0.1:9/fhir").post(SERVICE, json=request("rdh-1", "http://127.0.0.1:9/fhir"))
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"
