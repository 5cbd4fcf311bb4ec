"""Patients, immutable case versions and the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from fbss.case.model import Case, Pain
from fbss.errors import FbssError, NotFoundError
from fbss.knowledge.base import KnowledgeBase
from fbss.store.database import Database
from fbss.store.errors import StoreError, UnknownPatientError
from fbss.store.repository import Repository


def test_patient_add_list_show(repo: Repository) -> None:
    added = repo.add_patient("MRN-0001", display_name="Ann Example", birth_year=1962)
    repo.add_patient("MRN-0002")
    assert [p.identifier for p in repo.list_patients()] == ["MRN-0001", "MRN-0002"]
    summary = repo.patient("MRN-0001")
    assert summary.patient == added
    assert (summary.case_versions, summary.assessments, summary.responses) == (0, 0, 0)
    assert added.created_by == "dr-test"
    assert added.created_at.tzinfo is not None


@pytest.mark.parametrize(
    ("identifier", "kwargs", "message"),
    [
        ("", {}, "patient identifier"),
        ("has space", {}, "patient identifier"),
        ("-leading", {}, "patient identifier"),
        ("X" * 65, {}, "patient identifier"),
        ("MRN-1", {"birth_year": 1800}, "--birth-year"),
        ("MRN-1", {"display_name": "N" * 201}, "--name"),
    ],
)
def test_bad_patient_input_is_refused_and_writes_nothing(
    db: Database, repo: Repository, identifier: str, kwargs: dict[str, object], message: str
) -> None:
    before = db.row_counts()
    with pytest.raises(StoreError, match=message):
        repo.add_patient(identifier, **kwargs)  # type: ignore[arg-type]
    assert db.row_counts() == before


def test_duplicate_identifier_is_refused_and_writes_nothing(db: Database, repo: Repository) -> None:
    repo.add_patient("MRN-1")
    before = db.row_counts()
    with pytest.raises(StoreError, match="already exists"):
        repo.add_patient("MRN-1")
    assert db.row_counts() == before


def test_unknown_patient_is_a_clear_error_that_writes_nothing(
    db: Database, repo: Repository, example_case: Case
) -> None:
    before = db.row_counts()
    for action in (
        lambda: repo.patient("NOBODY"),
        lambda: repo.save_case("NOBODY", example_case),
        lambda: repo.case_history("NOBODY"),
        lambda: repo.responses("NOBODY"),
    ):
        with pytest.raises(UnknownPatientError, match="no patient with identifier 'NOBODY'") as caught:
            action()
        assert isinstance(caught.value, FbssError) and isinstance(caught.value, NotFoundError)
    assert db.row_counts() == before


def test_edits_create_new_versions_and_keep_the_old(repo: Repository, example_case: Case) -> None:
    repo.add_patient("MRN-1")
    first = repo.save_case("MRN-1", example_case, note="first visit")
    edited = example_case.model_copy(update={"pain": example_case.pain.model_copy(update={"nrs_leg": 4})})
    second = repo.save_case("MRN-1", edited, note="after physiotherapy")
    assert (first.version, second.version) == (1, 2)
    history = repo.case_history("MRN-1")
    assert [v.version for v in history] == [1, 2]
    assert history[0].data == example_case.model_dump(mode="json")
    assert history[0].case() == example_case
    assert history[1].case().pain.nrs_leg == 4
    assert repo.case_version("MRN-1").version == 2
    assert repo.case_version("MRN-1", 1).note == "first visit"
    with pytest.raises(StoreError, match="no case version 3"):
        repo.case_version("MRN-1", 3)


def test_versions_are_numbered_per_patient(repo: Repository, example_case: Case) -> None:
    repo.add_patient("A")
    repo.add_patient("B")
    assert repo.save_case("A", example_case).version == 1
    assert repo.save_case("B", example_case).version == 1
    assert repo.save_case("A", example_case).version == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_versions SET note = 'rewritten'",
        "DELETE FROM case_versions",
        "UPDATE audit_log SET who = 'someone else'",
        "DELETE FROM audit_log",
        "DELETE FROM patients",
        "UPDATE assessments SET engine_version = 'x'",
    ],
)
def test_the_database_itself_refuses_to_rewrite_history(
    db: Database, repo: Repository, example_case: Case, kb: KnowledgeBase, statement: str
) -> None:
    repo.add_patient("MRN-1")
    repo.save_case("MRN-1", example_case)
    repo.assess_case("MRN-1", kb)
    before = db.row_counts()
    with pytest.raises(DBAPIError, match="never"), db.engine.begin() as connection:
        connection.execute(text(statement))
    assert db.row_counts() == before
    assert repo.case_version("MRN-1", 1).note is None


def test_truncate_is_refused_on_postgresql(db: Database, repo: Repository) -> None:
    if db.dialect != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL only")
    repo.add_patient("MRN-1")
    with pytest.raises(DBAPIError, match="never"), db.engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_log"))


def test_every_read_and_write_is_audited_without_clinical_content(
    db: Database, repo: Repository, example_case: Case
) -> None:
    patient = repo.add_patient("MRN-1", display_name="Ann Example", birth_year=1962)
    repo.save_case("MRN-1", example_case, note="worse since the fall in March")
    repo.list_patients()
    repo.patient("MRN-1")
    repo.case_history("MRN-1")
    Repository(db, "nurse-2").case_version("MRN-1")
    entries = repo.audit_entries()
    actions = [(e.who, e.action, e.entity) for e in entries]
    assert actions == [
        ("dr-test", "create", "patient"),
        ("dr-test", "create", "case_version"),
        ("dr-test", "list", "patient"),
        ("dr-test", "read", "patient"),
        ("dr-test", "read", "case_version"),
        ("nurse-2", "read", "case_version"),
    ]
    assert all(e.patient_id == patient.id for e in entries if e.action != "list")
    logged = " ".join(str(v) for e in entries for v in dataclasses.astuple(e))
    for clinical in ("Ann", "Example", "1962", "fall", "L5-S1", "herniation", "MRN-1"):
        assert clinical not in logged
    assert repo.verify_audit().intact


def test_a_changed_audit_entry_breaks_the_hash_chain(db: Database, repo: Repository) -> None:
    repo.add_patient("MRN-1")
    repo.list_patients()
    repo.patient("MRN-1")
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET who = 'someone else' WHERE id = 2"))
    check = repo.verify_audit()
    assert not check.intact
    assert check.first_broken_id == 2


def test_save_case_refuses_an_overlong_note_and_writes_nothing(
    db: Database, repo: Repository, example_case: Case
) -> None:
    repo.add_patient("MRN-1")
    before = db.row_counts()
    with pytest.raises(StoreError, match="--note"):
        repo.save_case("MRN-1", example_case, note="x" * 5000)
    assert db.row_counts() == before


def test_a_case_with_unicode_and_nested_lists_round_trips(repo: Repository, example_case: Case) -> None:
    notes = "Schmerz ↑ nach Sturz — «ängstlich»"
    case = example_case.model_copy(update={"notes": notes, "pain": Pain(nrs_back=0)})
    repo.add_patient("MRN-1")
    repo.save_case("MRN-1", case)
    assert repo.case_version("MRN-1").case() == case
