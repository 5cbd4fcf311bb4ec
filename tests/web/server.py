"""A real uvicorn server on loopback with a random port, in a background thread, on a fresh SQLite database."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from fbss.knowledge.base import KnowledgeBase
from fbss.store.accounts import Accounts, Role
from fbss.store.database import Database
from fbss.web import demo
from fbss.web.app import create_app
from fbss.web.config import WebConfig

CLINICIAN_PASSWORD = "clinician-password-1"
ADMIN_PASSWORD = "admin-password-12"
OTHER_CLINICIAN_PASSWORD = "other-password-12"


@dataclass
class LiveServer:
    url: str
    db: Database
    app_config: WebConfig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare(directory: Path, kb: KnowledgeBase, *, seed: bool = True) -> Database:
    db = Database.open(f"sqlite:///{directory / 'fbss.sqlite3'}")
    db.upgrade()
    accounts = Accounts(db, user="test-setup")
    accounts.create_user("clinician", CLINICIAN_PASSWORD, Role.clinician, display_name="Dr Test")
    accounts.create_user("admin", ADMIN_PASSWORD, Role.admin)
    if seed:
        demo.seed(db, kb, today=dt.date.today())
    return db


@contextmanager
def running(db: Database, kb: KnowledgeBase, **config: object) -> Iterator[LiveServer]:
    config.setdefault("crisis_contacts_file", demo.CRISIS_CONTACTS)
    app_config = WebConfig(secret_key="test-secret-key-" + "x" * 40, **config)  # type: ignore[arg-type]
    app = create_app(db, kb, app_config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/login", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield LiveServer(url, db, app_config)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serving(app: object) -> Iterator[str]:
    """Any ASGI app on a free loopback port in a background thread (a stub FHIR server, an 'internal' service);
    yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
