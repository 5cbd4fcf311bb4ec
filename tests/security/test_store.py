"""The store under attack or under strain: pages read on a full disk or with the write lock held elsewhere (their
audit entries wait, are shown to the admin and written later), no database path on an error page, a read-only
status and backup, restore and import that check content, and files readable by their owner only."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from typer.testing import CliRunner

from fbss.case.model import Case
from fbss.cli import app as cli
from fbss.knowledge.base import KnowledgeBase
from fbss.store import backup, transfer
from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.models import AuditEntry
from fbss.store.outcomes import record_response
from fbss.store.repository import Repository
from tests.security.conftest import client_for, patient_id
from tests.web.client import sign_in
from tests.web.server import ADMIN_PASSWORD, CLINICIAN_PASSWORD, prepare


def _file(db: Database) -> str:
    assert db.engine.url.database
    return db.engine.url.database


def _fill(repo: Repository, case: Case) -> None:
    repo.add_patient("MRN-1", display_name="Ann Example", birth_year=1962)
    repo.save_case("MRN-1", case)
    record_response(
        repo,
        "MRN-1",
        "odi",
        {
            k: 2
            for k in (
                "pain_intensity",
                "personal_care",
                "lifting",
                "walking",
                "sitting",
                "standing",
                "sleeping",
                "sex_life",
                "social_life",
                "travelling",
            )
        },
        completed_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC),
    )


# -- reads survive a held lock and a full disk (medium) ------------------------------------------------------------


@pytest.fixture()
def web_db(tmp_path: Path, kb: KnowledgeBase) -> Database:
    return prepare(tmp_path, kb)


def test_pages_are_read_while_another_process_holds_the_write_lock(web_db: Database, kb: KnowledgeBase) -> None:
    """Before: every page waited for the lock (each read writes an audit row) and failed after 30 s."""
    clinician = sign_in(client_for(web_db, kb), "clinician", CLINICIAN_PASSWORD)
    admin = sign_in(client_for(web_db, kb), "admin", ADMIN_PASSWORD)
    pid = patient_id(web_db, "DEMO-004")
    holder = sqlite3.connect(_file(web_db), isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # e.g. a backup tool, or a stuck process
    try:
        started = time.monotonic()
        page = clinician.get(f"/patients/{pid}/assessment")
        assert page.status_code == 200 and "Dana Whitfield" in page.text
        assert time.monotonic() - started < 10  # the audit entry waits at most 2 s
        assert clinician.get("/patients").status_code == 200
        audit_page = admin.get("/admin/audit")
        assert audit_page.status_code == 200 and "waiting to be written" in audit_page.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with web_db.sessions() as session:
        before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    Repository(web_db, user="clinician").add_patient("AFTER-LOCK")  # the next write carries the waiting entries
    with web_db.sessions() as session:
        written = session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
    assert any(e.entity == "assessment" and e.patient_id == pid and e.action == "read" for e in written)
    assert web_db.audit_trail.status() is None
    assert Repository(web_db, user="t").verify_audit().intact
    assert "waiting to be written" not in admin.get("/admin/audit").text


def test_pages_are_read_on_a_full_disk_and_the_error_page_names_no_path(web_db: Database, kb: KnowledgeBase) -> None:
    clinician = sign_in(client_for(web_db, kb), "clinician", CLINICIAN_PASSWORD)
    pid = patient_id(web_db, "DEMO-005")

    def disk_full(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL on the next page

    for engine in (web_db.engine, web_db.quick):
        engine.dispose()
        event.listen(engine, "connect", disk_full)
    try:
        page = clinician.get(f"/patients/{pid}/history")
        assert page.status_code == 200 and "Elif Demir" in page.text
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        for _ in range(30):  # enough writes to need a new page
            added = clinician.post(
                "/patients", data={"csrf": token, "identifier": f"FULL-{_:03d}-" + "x" * 40, "display_name": "y" * 190}
            )
            if added.status_code != 303:
                break
        assert added.status_code == 503
        assert "not available right now" in added.text
        assert _file(web_db) not in added.text and "sqlite" not in added.text.lower()
        for _ in range(50):  # reads go on while their audit entries fill the last free space
            again = clinician.get(f"/patients/{pid}/history")
            assert again.status_code == 200 and "Elif Demir" in again.text
            if web_db.audit_trail.status() is not None:
                break
        pending = web_db.audit_trail.status()
        assert pending is not None and "full" in pending.reason  # the entries wait; they are not dropped
    finally:
        for engine in (web_db.engine, web_db.quick):
            event.remove(engine, "connect", disk_full)
            engine.dispose()


def test_db_status_and_a_read_only_backup_work_while_the_database_is_locked(
    db: Database, example_case: Case, tmp_path: Path
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the write lock of another process is an SQLite file lock")
    _fill(Repository(db, "dr-test"), example_case)
    url = str(db.engine.url)
    holder = sqlite3.connect(_file(db), isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        status = CliRunner().invoke(cli, ["db", "status", "--database", url])
        assert status.exit_code == 0 and "patients: 1" in status.output
        target = tmp_path / "locked.json"
        result = CliRunner().invoke(cli, ["db", "backup", str(target), "--read-only", "--database", url])
        assert result.exit_code == 0, result.output
        assert "could not be written" in result.output  # the backup's own audit entry: said, not dropped silently
        assert time.monotonic() - started < 20
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert backup.load_backup(target)["patients"][0]["identifier"] == "MRN-1"


# -- restore and import check what they load (medium) --------------------------------------------------------------


def _backup_document(db: Database, example_case: Case, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    _fill(Repository(db, "dr-test"), example_case)
    path = tmp_path / "good.json"
    backup.backup(db, path, "admin")
    return path, json.loads(path.read_text())


def _restore(make_db: Any, document: dict[str, Any], tmp_path: Path, name: str) -> Database:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    target: Database = make_db(migrated=False)
    backup.restore(target, path, "admin")
    return target


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (
            lambda d: d["tables"]["case_versions"][0]["case_json"].update(index_surgery={"type": "laser"}),
            "case_versions[0]",
        ),
        (
            lambda d: d["tables"]["questionnaire_responses"][0]["answers"].update(lifting=99),
            "questionnaire_responses[0]: the answers do not score",
        ),
        (lambda d: d["tables"]["audit_log"][1].update(who="someone-else"), "does not match the hash chain"),
        (lambda d: d["tables"]["audit_log"].pop(1), "does not match the hash chain"),
    ],
    ids=["invalid case", "answer out of range", "altered audit entry", "removed audit entry"],
)
def test_restore_refuses_invalid_content(
    db: Database, make_db: Any, example_case: Case, tmp_path: Path, tamper: Any, message: str
) -> None:
    """Before: `db restore` loaded an invalid case, an ODI answer of 99 and an edited audit row."""
    _path, document = _backup_document(db, example_case, tmp_path)
    tamper(document)
    with pytest.raises(StoreError, match="nothing was restored") as refused:
        _restore(make_db, document, tmp_path, "tampered.json")
    assert message in str(refused.value)


def test_a_key_violation_on_restore_names_the_table_not_the_answers(
    db: Database, make_db: Any, example_case: Case, tmp_path: Path
) -> None:
    """Before: a duplicate id printed the patient's answers in a traceback."""
    _path, document = _backup_document(db, example_case, tmp_path)
    responses = document["tables"]["questionnaire_responses"]
    responses.append(dict(responses[0]))  # the same id twice
    path = tmp_path / "duplicate.json"
    path.write_text(json.dumps(document))
    target = str(make_db(migrated=False).engine.url)
    result = CliRunner().invoke(cli, ["db", "restore", str(path), "--database", target])
    assert result.exit_code != 0
    message = str(result.exception)
    assert "questionnaire_responses rows break a database rule" in message
    assert "pain_intensity" not in message and "Traceback" not in result.output


def test_import_refuses_answers_out_of_range(db: Database, example_case: Case) -> None:
    """Before: `patient import` stored an ODI answer of 99."""
    _fill(Repository(db, "dr-test"), example_case)
    document = json.loads(transfer.export_patients(db, "t").model_dump_json())
    document["patients"][0]["identifier"] = "MRN-9"
    document["patients"][0]["questionnaire_responses"][0]["answers"]["lifting"] = 99
    with pytest.raises(StoreError, match=r"questionnaire_responses\[0\]: the answers do not score"):
        transfer.parse_export(json.dumps(document))
    document["patients"][0]["questionnaire_responses"][0]["answers"]["lifting"] = "3"
    with pytest.raises(StoreError, match="a number or empty"):
        transfer.parse_export(json.dumps(document))


# -- files readable by their owner only (low) ----------------------------------------------------------------------


def test_database_backups_and_exports_are_owner_only(
    tmp_path: Path, example_case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the database, backups and exports were created 0644."""
    import os

    old = os.umask(0o022)
    try:
        db = Database.open(f"sqlite:///{tmp_path / 'data' / 'fbss.sqlite3'}")
        db.upgrade()
        _fill(Repository(db, "dr-test"), example_case)
        backup.backup(db, tmp_path / "b.json", "admin")
        backup.backup(db, tmp_path / "b.sqlite3", "admin")
        result = CliRunner().invoke(
            cli, ["patient", "export", "-o", str(tmp_path / "e.json"), "--database", str(db.engine.url)]
        )
        assert result.exit_code == 0, result.output
        db.close()
    finally:
        os.umask(old)
    for name in ("data/fbss.sqlite3", "b.json", "b.sqlite3", "e.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
