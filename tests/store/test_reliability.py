"""Reliability: concurrent writers lose and duplicate nothing; a killed writer loses nothing it confirmed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from fbss.case.model import Case
from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.models import AuditEntry, CaseVersion, Patient
from fbss.store.repository import Repository

WRITER = Path(__file__).with_name("writer.py")
ROOT = Path(__file__).resolve().parents[2]


def run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_writers_to_one_patient_get_distinct_consecutive_versions(db: Database, example_case: Case) -> None:
    Repository(db, "setup").add_patient("MRN-1")
    writers, each = 6, 8

    def work(index: int) -> None:
        repo = Repository(db, f"user-{index}")
        for _ in range(each):
            repo.save_case("MRN-1", example_case)
            repo.add_patient(f"P-{index}-{_}")

    assert run_threads(writers, work) == []
    with db.sessions() as session:
        versions = sorted(session.scalars(select(CaseVersion.version)))
        patients = session.scalar(select(Patient).where(Patient.identifier == "MRN-1"))
        assert patients is not None
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert versions == list(range(1, writers * each + 1))
    assert db.row_counts()["patients"] == 1 + writers * each
    assert len(entries) == 1 + 2 * writers * each
    assert Repository(db, "check").verify_audit().intact


def test_concurrent_registration_of_one_identifier_succeeds_once(db: Database) -> None:
    outcomes: list[str] = []

    def work(index: int) -> None:
        try:
            Repository(db, f"user-{index}").add_patient("MRN-SAME")
            outcomes.append("added")
        except StoreError as exc:
            assert "already exists" in str(exc)
            outcomes.append("refused")

    assert run_threads(5, work) == []
    assert sorted(outcomes) == ["added"] + ["refused"] * 4
    assert db.row_counts()["patients"] == 1
    assert Repository(db, "check").verify_audit().intact


def _writer(url: str, mode: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, mode, str(count)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_after_kill(db: Database, confirmed: int, at_most: int) -> None:
    """Every confirmed version is there and consecutive, the half-done work is gone, writing works."""
    if db.dialect == "sqlite":
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    with db.sessions() as session:
        versions = sorted(session.scalars(select(CaseVersion.version)))
        unconfirmed = session.scalar(select(Patient).where(Patient.identifier == "UNCONFIRMED"))
    assert confirmed <= len(versions) <= at_most
    assert versions == list(range(1, len(versions) + 1))
    assert unconfirmed is None
    repo = Repository(db, "after")
    assert repo.verify_audit().intact
    assert repo.add_patient("AFTER").identifier == "AFTER"


def test_a_writer_killed_inside_a_transaction_loses_nothing_confirmed(db: Database, example_case: Case) -> None:
    Repository(db, "setup").add_patient("MRN-1")
    process = _writer(db.engine.url.render_as_string(hide_password=False), "hold", 3)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.strip())
        if line.strip() == "in-transaction":
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert lines[-1] == "in-transaction", process.stderr.read() if process.stderr else lines
    assert process.returncode == -signal.SIGKILL
    _check_after_kill(db, confirmed=3, at_most=3)


def test_a_writer_killed_at_a_random_moment_loses_nothing_confirmed(db: Database, example_case: Case) -> None:
    Repository(db, "setup").add_patient("MRN-1")
    process = _writer(db.engine.url.render_as_string(hide_password=False), "loop", 10_000)
    assert process.stdout is not None
    confirmed = 0
    for line in process.stdout:
        if line.startswith("confirmed"):
            confirmed = int(line.split()[1])
            if confirmed >= 15:
                process.send_signal(signal.SIGKILL)
                break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    # Lines printed between our decision and the kill still count as confirmed.
    for line in process.stdout:
        if line.startswith("confirmed"):
            confirmed = int(line.split()[1])
    _check_after_kill(db, confirmed=confirmed, at_most=confirmed + 1)


def test_concurrent_writer_processes_lose_and_duplicate_nothing(db: Database) -> None:
    Repository(db, "setup").add_patient("MRN-1")
    url = db.engine.url.render_as_string(hide_password=False)
    processes = [_writer(url, "loop", 10) for _ in range(3)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert out.count("confirmed") == 10
    with db.sessions() as session:
        versions = sorted(session.scalars(select(CaseVersion.version)))
    assert versions == list(range(1, 31))
    assert Repository(db, "check").verify_audit().intact
