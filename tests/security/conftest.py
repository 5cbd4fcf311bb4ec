"""Security fixtures: a seeded database per test module, app clients of each role (tests/web/roles.py), both
database backends (tests/store/conftest.py), and a portal link."""

from __future__ import annotations

import pytest

from fbss.store.database import Database
from fbss.store.portal import Portal
from tests.store.conftest import (  # noqa: F401 - fixtures: SQLite and PostgreSQL
    backend,
    db,
    example_case,
    make_db,
    new_url,
    postgres_url,
)
from tests.web.roles import (  # noqa: F401 - fixtures and helpers for every security test
    SECRET,
    admin,
    anonymous,
    client_for,
    clinician,
    database,
    patient_id,
)


def new_link(store: Database, identifier: str = "DEMO-002", time_point: str = "month_3") -> str:
    token, _link = Portal(store, user="test").create_link(identifier, time_point=time_point)
    return token


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a long fuzz run: how many inputs each target tried (FBSS_FUZZ_REPORT)."""
    from tests.security import fuzz

    fuzz.write_report()
