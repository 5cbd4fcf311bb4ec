"""Fixtures for security tests: one seeded database per test module, and app clients of each role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.store.repository import Repository
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from tests.web.client import sign_in
from tests.web.server import ADMIN_PASSWORD, CLINICIAN_PASSWORD, prepare

SECRET = "test-secret-key-" + "y" * 40


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Iterator[Database]:
    prepared = prepare(tmp_path_factory.mktemp("security"), kb)
    yield prepared
    prepared.close()


def client_for(store: Database, kb: KnowledgeBase, config: WebConfig | None = None) -> TestClient:
    return TestClient(create_app(store, kb, config or WebConfig(secret_key=SECRET)), follow_redirects=False)


@pytest.fixture()
def anonymous(database: Database, kb: KnowledgeBase) -> TestClient:
    return client_for(database, kb)


@pytest.fixture()
def clinician(database: Database, kb: KnowledgeBase) -> TestClient:
    return sign_in(client_for(database, kb), "clinician", CLINICIAN_PASSWORD)


@pytest.fixture()
def admin(database: Database, kb: KnowledgeBase) -> TestClient:
    return sign_in(client_for(database, kb), "admin", ADMIN_PASSWORD)


def patient_id(store: Database, identifier: str = "DEMO-001") -> int:
    return next(p.id for p in Repository(store, user="test").list_patients() if p.identifier == identifier)
