"""Web fixtures: one seeded database and live server per test module; Chromium from Debian, headless."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fbss.knowledge.base import KnowledgeBase
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.web.client import sign_in
from tests.web.server import CLINICIAN_PASSWORD, LiveServer, prepare, running

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("web")
    db = prepare(directory, kb)
    with running(db, kb) as server:
        yield server
    db.close()


@pytest.fixture(scope="module")
def clinician(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Iterator[TestClient]:
    """The app in-process on a seeded database of the test module's own, signed in as the clinician."""
    db = prepare(tmp_path_factory.mktemp("clinician"), kb)
    client = TestClient(create_app(db, kb, WebConfig(secret_key="module-secret-" + "z" * 40)), follow_redirects=False)
    yield sign_in(client, "clinician", CLINICIAN_PASSWORD)
    db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/system-packages.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
