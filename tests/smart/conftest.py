"""SMART launch fixtures: the test EHR and the app, each a real server on loopback, and a signed-in browser-less
client that follows the EHR launch from the launcher to the prefilled case form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from fbss.knowledge.base import KnowledgeBase
from tests.smart.app_server import App, running_app
from tests.smart.ehr import Ehr, running_ehr
from tests.web.server import CLINICIAN_PASSWORD


@pytest.fixture(scope="module")
def ehr() -> Iterator[Ehr]:
    with running_ehr() as server:
        yield server


@pytest.fixture(scope="module")
def app(ehr: Ehr, kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with running_app(ehr, kb, tmp_path_factory.mktemp("smart")) as server:
        yield server


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
