"""The app as a real server on loopback, registered with the test EHR as its SMART client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from fbss.fhir.smart import SmartClient, SmartSettings
from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.smart.ehr import CLIENT_ID, Ehr
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
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield App(url, db)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        db.close()
