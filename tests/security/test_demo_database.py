"""`fbss serve --demo` runs only on a database of its own: a clinic's database is refused before anything is
written, and accounts the demo did not create are never touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fbss.cli import app as cli
from fbss.store.accounts import Accounts, Role
from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.installation import DEMO, purpose
from fbss.store.repository import Repository
from fbss.web import demo
from tests.web.server import free_port


@pytest.fixture()
def clinic_db(tmp_path: Path) -> Database:
    db = Database.open(f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    db.upgrade()
    accounts = Accounts(db, user="fbss-serve")
    accounts.create_user("admin", "real-admin-password", Role.admin)
    accounts.create_user("dr-real", "real-doctor-password", Role.clinician)
    admin_id = accounts.user_id_of("dr-real")
    assert admin_id is not None
    Accounts(db, user="admin").set_active(admin_id, False)  # a disabled account
    Repository(db, user="dr-real").add_patient("MRN-1", display_name="Real Person")
    return db


def test_serve_demo_refuses_a_clinic_database(clinic_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: it reset the real admin's password, re-enabled a disabled account (printing its new password) and
    added twelve demo patients that can never be deleted."""
    monkeypatch.setenv("FBSS_SECRET_KEY", "k" * 40)
    result = CliRunner().invoke(
        cli, ["serve", "--demo", "--database", str(clinic_db.engine.url), "--port", str(free_port())]
    )
    assert result.exit_code != 0
    assert "is not a demo database" in str(result.exception)
    accounts = Accounts(clinic_db, user="test")
    assert accounts.verify("admin", "real-admin-password") is not None  # password unchanged
    assert accounts.verify("dr-real", "real-doctor-password") is None  # still disabled
    assert [p.identifier for p in Repository(clinic_db, user="test").list_patients()] == ["MRN-1"]
    assert purpose(clinic_db) is None


def test_the_demo_never_resets_accounts_it_did_not_make(clinic_db: Database) -> None:
    with pytest.raises(StoreError, match="left unchanged"):
        Accounts(clinic_db, user=demo.DEMO_USER).ensure_user("admin", "demo-password-12", Role.admin)
    assert Accounts(clinic_db, user="test").verify("admin", "real-admin-password") is not None


def test_a_new_database_becomes_the_demos_and_keeps_disabled_accounts_disabled(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    db.upgrade()
    demo.claim(db)
    assert purpose(db) == DEMO
    first = demo.ensure_accounts(db)
    assert first.clinician_password and first.admin_password
    clinician_id = Accounts(db, user="t").user_id_of("clinician")
    assert clinician_id is not None
    Accounts(db, user="admin").set_active(clinician_id, False)
    Repository(db, user="clinician").add_patient("TRY-1")  # a demo user's own patient: still the demo's database
    demo.claim(db)
    again = demo.ensure_accounts(db)
    assert again.clinician_password is None and any("disabled" in note for note in again.notes)
    assert Accounts(db, user="t").verify("clinician", first.clinician_password) is None
