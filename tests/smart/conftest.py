"""SMART launch fixtures: the test EHR and the app, each a real server on loopback, and a signed-in browser-less
client that follows the EHR launch from the launcher to the prefilled case form."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from fbss.fhir.smart import SmartClient, SmartSettings
from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.smart.ehr import CLIENT_ID, Ehr, running_ehr
from tests.web.server import CLINICIAN_PASSWORD, free_port, prepare


@dataclass
class App:
    url: str
    db: Database


@pytest.fixture(scope="module")
def ehr() -> Iterator[Ehr]:
    with running_ehr() as server:
        yield server


@pytest.fixture(scope="module")
def app(ehr: Ehr, kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    db = prepare(tmp_path_factory.mktemp("smart"), kb, seed=False)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = SmartSettings({ehr.fhir: SmartClient(ehr.fhir, CLIENT_ID)}, app_base_url=url, timeout_seconds=10)
    ehr.redirect_uris.add(settings.redirect_uri)
    web = create_app(db, kb, WebConfig(secret_key="smart-test-secret-" + "x" * 40), smart_settings=settings)
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield App(url, db)
    server.should_exit = True
    thread.join(timeout=10)
    db.close()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def signed_in(app: App) -> httpx.Client:
    client = httpx.Client(base_url=app.url, follow_redirects=False, timeout=30)
    page = client.get("/login")
    response = client.post(
        "/login", data={"username": "clinician", "password": CLINICIAN_PASSWORD, "csrf": csrf_of(page.text)}
    )
    assert response.status_code == 303
    return client


def follow(client: httpx.Client, url: str, limit: int = 10) -> tuple[httpx.Response, list[str]]:
    """Follow redirects across the app and the EHR (as a browser would), keeping each host's cookies."""
    hops: list[str] = []
    response = client.get(url)
    while response.is_redirect and len(hops) < limit:
        url = str(response.next_request.url) if response.next_request else response.headers["location"]
        hops.append(url)
        response = client.get(url)
    return response, hops
