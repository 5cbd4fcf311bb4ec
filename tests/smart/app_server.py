"""The app as a real server on loopback, registered with the test EHR as its SMART client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fbss.fhir.smart import SmartClient, SmartSettings
from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.smart.ehr import CLIENT_ID, Ehr, serving
from tests.web.server import free_port, prepare


@dataclass
class App:
    url: str
    db: Database


@contextmanager
def running_app(ehr: Ehr, kb: KnowledgeBase, directory: Path) -> Iterator[App]:
    db = prepare(directory, kb, seed=False)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = SmartSettings({ehr.fhir: SmartClient(ehr.fhir, CLIENT_ID)}, app_base_url=url, timeout_seconds=10)
    ehr.redirect_uris.add(settings.redirect_uri)
    web = create_app(db, kb, WebConfig(secret_key="smart-test-secret-" + "x" * 40), smart_settings=settings)
    try:
        with serving(web, port):
            yield App(url, db)
    finally:
        db.close()
