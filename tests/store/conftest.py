"""Store fixtures: every test gets a fresh, migrated database on SQLite and on a real PostgreSQL server.

PostgreSQL comes from FBSS_TEST_POSTGRES_URL when set; otherwise scripts/postgres.sh starts a throwaway
server, shared by all xdist workers of one run (a file lock and a user count decide who starts and who
stops it). With CI=true a server that cannot be started fails the run; elsewhere the PostgreSQL half is
skipped, with the reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fbss.case.model import Case
from fbss.case.parse import read_case
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import load_knowledge
from fbss.store.database import Database
from fbss.store.repository import Repository

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_SCRIPT = ROOT / "scripts" / "postgres.sh"
EXAMPLE_CASE = ROOT / "examples" / "cases" / "recurrent_herniation_after_discectomy.json"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required on CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason} (set FBSS_TEST_POSTGRES_URL or install `postgresql`)")


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An admin URL of a PostgreSQL server for this test run."""
    given = os.environ.get("FBSS_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    lock_path, state_path = shared / "fbss-postgres.lock", shared / "fbss-postgres.json"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if state_path.exists():
            state = json.loads(state_path.read_text())
        else:
            try:
                run = subprocess.run(
                    # The script makes its own directory under /tmp: the server's user cannot enter pytest's.
                    ["bash", str(POSTGRES_SCRIPT), "start"],
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                _unavailable(f"scripts/postgres.sh could not run ({exc})")
            if run.returncode != 0:
                _unavailable(f"scripts/postgres.sh failed: {(run.stderr or run.stdout).strip()[-500:]}")
            exported = dict(
                line.removeprefix("export ").split("=", 1) for line in run.stdout.splitlines() if "=" in line
            )
            url, directory = exported["FBSS_TEST_POSTGRES_URL"], exported["FBSS_TEST_POSTGRES_DIR"]
            state = {"url": url, "dir": directory, "users": 0}
        state["users"] += 1
        state_path.write_text(json.dumps(state))
    try:
        yield state["url"]
    finally:
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = json.loads(state_path.read_text())
            state["users"] -= 1
            if state["users"] <= 0:
                subprocess.run(["bash", str(POSTGRES_SCRIPT), "stop", state["dir"]], check=False, timeout=60)
                state_path.unlink()
            else:
                state_path.write_text(json.dumps(state))


DatabaseFactory = Callable[..., Database]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Make URLs of new, empty databases on the test's backend (PostgreSQL: schemas; dropped afterwards)."""
    created: list[str] = []
    admin_url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None

    def make() -> str:
        if admin_url is None:
            return f"sqlite:///{tmp_path / f'fbss-{uuid.uuid4().hex[:8]}.sqlite3'}"
        # A schema per database is much cheaper than CREATE DATABASE; the URL's search_path selects it.
        name = f"fbss_{uuid.uuid4().hex[:16]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {name}"))
        admin.dispose()
        created.append(name)
        url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={name}"})
        return url.render_as_string(hide_password=False)

    yield make
    if admin_url is not None and created:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        admin.dispose()


@pytest.fixture
def make_db(new_url: Callable[[], str]) -> Iterator[DatabaseFactory]:
    """Open new databases on the test's backend, migrated unless `migrated=False`; all closed afterwards."""
    opened: list[Database] = []

    def make(migrated: bool = True) -> Database:
        db = Database.open(new_url())
        opened.append(db)
        if migrated:
            db.upgrade()
        return db

    yield make
    for db in opened:
        db.close()


@pytest.fixture
def db(make_db: DatabaseFactory) -> Database:
    return make_db()


@pytest.fixture
def repo(db: Database) -> Repository:
    return Repository(db, "dr-test")


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(None)


@pytest.fixture(scope="session")
def example_case() -> Case:
    return read_case(EXAMPLE_CASE)
