"""SQLite: threads of one process queue for the write lock in order, and a failed or abandoned transaction
never keeps the lock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.repository import Repository


def opened(tmp_path: Path) -> Database:
    db = Database.open(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    db.upgrade()
    return db


def in_thread(action: object, limit: float = 5.0) -> float:
    """Run `action` in another thread; its duration, failing the test if it does not finish within `limit`."""
    done: list[float] = []

    def run() -> None:
        start = time.monotonic()
        action()  # type: ignore[operator]
        done.append(time.monotonic() - start)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert done, "the other thread is still waiting for the write lock"
    return done[0]


def test_the_lock_is_free_after_an_error_inside_a_transaction(tmp_path: Path) -> None:
    db = opened(tmp_path)
    repo = Repository(db, user="test")
    with pytest.raises(StoreError):
        repo.add_patient("bad identifier with spaces")
    with pytest.raises(StoreError):
        repo.case_version("MRN-1")  # unknown patient: raised inside the unit, rolled back
    assert in_thread(lambda: repo.add_patient("MRN-1")) < 2.0
    db.close()


def test_the_lock_is_free_after_a_connection_is_invalidated(tmp_path: Path) -> None:
    db = opened(tmp_path)
    with db.sessions() as session:
        session.connection().invalidate()
    assert in_thread(lambda: Repository(db, user="test").list_patients()) < 2.0
    db.close()


def test_many_threads_all_get_their_turn(tmp_path: Path) -> None:
    db = opened(tmp_path)
    repo = Repository(db, user="test")
    repo.add_patient("MRN-1")
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(10):
                repo.patient("MRN-1")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and not any(t.is_alive() for t in threads)
    assert repo.verify_audit().intact
    db.close()
