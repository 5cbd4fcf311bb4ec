"""Web fixtures: one seeded database and live server per test module; Chromium from Debian, headless."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fbss.knowledge.base import KnowledgeBase
from tests.web.roles import admin, anonymous, clinician, database  # noqa: F401 - fixtures of each role
from tests.web.server import LiveServer, prepare, running

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
def browser() -> Iterator[object]:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/system-packages.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
