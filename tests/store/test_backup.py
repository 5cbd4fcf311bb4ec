"""Backup and restore (JSON and SQLite files) and patient export/import: exact round trips, refusals."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fbss.case.model import Case
from fbss.errors import CaseError
from fbss.knowledge.base import KnowledgeBase
from fbss.store import backup, migrate, transfer
from fbss.store.database import Database
from fbss.store.errors import StoreError, UnknownPatientError
from fbss.store.outcomes import record_response
from fbss.store.repository import Repository

DatabaseFactory = Callable[..., Database]


def fill(repo: Repository, case: Case, kb: KnowledgeBase) -> None:
    """Two patients with versions, an assessment, questionnaires, and reads in the audit log."""
    repo.add_patient("MRN-1", display_name="Ann Example", birth_year=1962)
    repo.add_patient("MRN-2")
    repo.save_case("MRN-1", case, note="first visit")
    repo.save_case("MRN-1", case.model_copy(update={"notes": "Schmerz ↑"}), note="second")
    repo.assess_case("MRN-1", kb)
    when = dt.datetime(2026, 1, 10, 9, 30, 15, 123456, tzinfo=dt.UTC)
    record_response(repo, "MRN-1", "nrs_leg", {"pain": 8}, completed_at=when, time_point="baseline")
    record_response(
        repo,
        "MRN-1",
        "odi",
        {
            "pain_intensity": 3,
            "lifting": 2,
            "walking": 1,
            "sitting": 2,
            "standing": 2,
            "sleeping": 1,
            "social_life": 2,
            "travelling": 2,
            "personal_care": 0,
        },
        completed_at=when,
    )
    repo.save_case("MRN-2", case)
    repo.case_history("MRN-1")


def rows_of(db: Database) -> backup.Rows:
    with db.engine.connect() as connection:
        return backup.read_rows(connection)


@pytest.mark.parametrize("suffix", [".json", ".sqlite3"])
def test_backup_restored_into_an_empty_database_equals_the_original(
    db: Database, make_db: DatabaseFactory, example_case: Case, kb: KnowledgeBase, tmp_path: Path, suffix: str
) -> None:
    fill(Repository(db, "dr-test"), example_case, kb)
    path = tmp_path / f"backup{suffix}"
    summary = backup.backup(db, path, "admin")
    original = rows_of(db)  # includes the backup's own audit entry
    assert summary.rows == {name: len(rows) for name, rows in original.items()}

    target = make_db(migrated=False)  # restore creates the tables itself
    backup.restore(target, path, "admin")
    restored = rows_of(target)
    restore_entry = restored["audit_log"].pop()
    assert (restore_entry["action"], restore_entry["who"]) == ("restore", "admin")
    assert restored == original
    assert Repository(target, "dr-test").verify_audit().intact
    # The restored database keeps working, with new ids after the restored ones.
    assert Repository(target, "dr-test").save_case("MRN-2", example_case).version == 2


def test_restore_refuses_a_database_that_holds_data(
    db: Database, make_db: DatabaseFactory, example_case: Case, kb: KnowledgeBase, tmp_path: Path
) -> None:
    fill(Repository(db, "dr-test"), example_case, kb)
    path = tmp_path / "backup.json"
    backup.backup(db, path, "admin")
    used = make_db()
    Repository(used, "x").add_patient("OTHER")
    before = used.row_counts()
    with pytest.raises(StoreError, match=r"is not empty: audit_log \(1\), patients \(1\)"):
        backup.restore(used, path, "admin")
    assert used.row_counts() == before


def test_backup_never_overwrites_and_names_its_format(db: Database, tmp_path: Path) -> None:
    existing = tmp_path / "old.json"
    existing.write_text("{}")
    with pytest.raises(StoreError, match="already exists"):
        backup.backup(db, existing, "admin")
    with pytest.raises(StoreError, match=r"\*\.json or \*\.sqlite3"):
        backup.backup(db, tmp_path / "backup.txt", "admin")
    assert existing.read_text() == "{}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read the backup"),
        ('{"format": "something"}', "not an FBSS Navigator backup"),
        (
            '{"format": "fbss-backup", "format_version": 1, "schema_revision": "0000", "tables": {}}',
            "revision",
        ),
        (
            json.dumps(
                {
                    "format": "fbss-backup",
                    "format_version": 1,
                    "schema_revision": migrate.head_revision(),
                    "tables": {"patients": [{"id": 1}]},
                }
            ),
            "exactly the columns",
        ),
    ],
)
def test_a_bad_backup_file_is_refused_and_writes_nothing(
    make_db: DatabaseFactory, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    target = make_db()
    with pytest.raises(StoreError, match=message):
        backup.restore(target, path, "admin")
    assert set(target.row_counts().values()) == {0}


def _export_without_time(document: transfer.Export) -> dict[str, Any]:
    data = json.loads(document.model_dump_json())
    del data["exported_at"]
    return data


def test_export_import_round_trip_is_exact(
    db: Database, make_db: DatabaseFactory, example_case: Case, kb: KnowledgeBase
) -> None:
    fill(Repository(db, "dr-test"), example_case, kb)
    first = transfer.export_patients(db, "dr-test")
    text = first.model_dump_json(indent=2)
    target = make_db()
    assert transfer.import_patients(target, "admin", transfer.parse_export(text)) == ["MRN-1", "MRN-2"]
    second = transfer.export_patients(target, "admin")
    assert _export_without_time(second) == _export_without_time(first)
    one = transfer.export_patients(db, "dr-test", ["MRN-2"])
    assert [p.identifier for p in one.patients] == ["MRN-2"]
    imported = Repository(target, "admin")
    assert imported.case_version("MRN-1", 2).note == "second"
    [assessment] = imported.assessments("MRN-1")
    assert imported.reproduce(assessment.id, kb).identical
    actions = {(e.action, e.entity) for e in imported.audit_entries(limit=1000)}
    assert ("import", "patient") in actions and ("import", "case_version") in actions


def test_import_is_all_or_nothing(
    db: Database, make_db: DatabaseFactory, example_case: Case, kb: KnowledgeBase
) -> None:
    fill(Repository(db, "dr-test"), example_case, kb)
    document = transfer.export_patients(db, "dr-test")
    target = make_db()
    Repository(target, "x").add_patient("MRN-2")
    before = target.row_counts()
    with pytest.raises(StoreError, match="MRN-2; nothing was imported"):
        transfer.import_patients(target, "admin", document)
    assert target.row_counts() == before


def test_an_export_with_an_invalid_case_is_refused(db: Database, example_case: Case, kb: KnowledgeBase) -> None:
    fill(Repository(db, "dr-test"), example_case, kb)
    data = json.loads(transfer.export_patients(db, "dr-test").model_dump_json())
    data["patients"][0]["case_versions"][1]["case"]["pain"]["nrs_leg"] = 14
    with pytest.raises(CaseError, match=r"patients\[0\]\.case_versions\[1\]\.case: pain\.nrs_leg"):
        transfer.parse_export(json.dumps(data))
    data["patients"][0]["case_versions"][1]["version"] = 5
    with pytest.raises(StoreError, match="without gaps"):
        transfer.parse_export(json.dumps(data))
    with pytest.raises(StoreError, match="not valid JSON"):
        transfer.parse_export("{")


def test_exporting_an_unknown_patient_is_refused(db: Database) -> None:
    with pytest.raises(UnknownPatientError):
        transfer.export_patients(db, "dr-test", ["NOBODY"])


@pytest.mark.postgres
def test_a_postgresql_backup_restores_into_sqlite(
    postgres_url: str, tmp_path: Path, example_case: Case, kb: KnowledgeBase, request: pytest.FixtureRequest
) -> None:
    """Backups are portable: the same rows, whatever database wrote them."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"fbss_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    source = Database.open(url.render_as_string(hide_password=False))
    target = Database.open(f"sqlite:///{tmp_path / 'target.sqlite3'}")
    try:
        source.upgrade()
        fill(Repository(source, "dr-test"), example_case, kb)
        backup.backup(source, tmp_path / "pg.sqlite3", "admin")
        backup.restore(target, tmp_path / "pg.sqlite3", "admin")
        restored = rows_of(target)
        restored["audit_log"].pop()
        assert restored == rows_of(source)
    finally:
        source.close()
        target.close()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
