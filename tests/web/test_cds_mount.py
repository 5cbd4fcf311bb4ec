"""The CDS Hooks service mounted in the web app, as `fbss serve` runs it: same answers as the standalone service,
JSON errors, no browser session for EHR clients, and cards that link back to this app."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette's TestClient warns about its own httpx dependency
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from fbss.fhir.cds_hooks import CdsSettings
from fbss.knowledge.base import KnowledgeBase
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.fhir.conftest import ASSESSED_ON, SERVICE, bundle, card_of, hook_request
from tests.web.server import prepare


def app_client(directory: Path, kb: KnowledgeBase, settings: CdsSettings) -> TestClient:
    db = prepare(directory, kb, seed=False)
    app = create_app(db, kb, WebConfig(secret_key="test-secret-key-" + "x" * 40), cds=settings)
    app.state.cds.today = lambda: ASSESSED_ON
    return TestClient(app)


@pytest.fixture
def open_client(tmp_path: Path, kb: KnowledgeBase) -> Iterator[TestClient]:
    settings = CdsSettings(auth_required=False, app_base_url="http://127.0.0.1:8000")
    with app_client(tmp_path, kb, settings) as client:
        yield client


def test_discovery_and_patient_view_answer_inside_the_web_app(open_client: TestClient) -> None:
    discovery = open_client.get("/cds-services")
    assert discovery.status_code == 200
    assert [s["id"] for s in discovery.json()["services"]] == ["fbss-patient-view"]
    response = open_client.post(SERVICE, json=hook_request(bundle("cauda_equina_after_microdiscectomy")))
    assert response.status_code == 200
    first = response.json()["cards"][0]
    assert first["indicator"] == "critical" and "cauda equina" in first["summary"].lower()
    assert [link["type"] for link in first["links"]] == ["smart"]  # the EHR's patient id is never in an app link
    assert "set-cookie" not in response.headers  # EHR clients get no browser session


def test_plan_cards_come_through_the_mounted_service(open_client: TestClient) -> None:
    response = open_client.post(SERVICE, json=hook_request(bundle("recurrent_herniation_after_microdiscectomy")))
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert "herniation" in card_of(cards, "differential")["summary"].lower()
    assert card_of(cards, "work-up")["summary"].startswith("Suggested next")


def test_errors_under_the_service_are_json_not_pages(open_client: TestClient) -> None:
    wrong_method = open_client.get(SERVICE)
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"].startswith("application/json")
    bad = open_client.post(SERVICE, content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/json")


def test_without_trusted_clients_every_call_is_refused(tmp_path: Path, kb: KnowledgeBase) -> None:
    with app_client(tmp_path, kb, CdsSettings(auth_required=True)) as client:
        response = client.post(SERVICE, json=hook_request(bundle("cauda_equina_after_microdiscectomy")))
        assert response.status_code == 401
        assert client.get("/cds-services").status_code == 401


def test_the_web_app_itself_still_asks_for_sign_in(open_client: TestClient) -> None:
    response = open_client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303, 307) and "/login" in response.headers["location"]
