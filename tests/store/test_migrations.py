"""Migrations: from empty to head, the models match them, and the app refuses an unmigrated database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fbss.store import migrate
from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.models import Base

DatabaseFactory = Callable[..., Database]


def test_empty_database_migrates_to_head_and_matches_models(make_db: DatabaseFactory) -> None:
    db = make_db(migrated=False)
    assert db.revision() is None
    before, after = db.upgrade()
    assert (before, after) == (None, migrate.head_revision())
    assert db.revision() == migrate.head_revision()
    assert migrate.schema_differences(db.engine) == []  # what `alembic check` verifies
    assert set(db.row_counts()) == {table.name for table in Base.metadata.sorted_tables}


def test_upgrade_twice_is_a_no_op(db: Database) -> None:
    assert db.upgrade() == (migrate.head_revision(), migrate.head_revision())


def test_downgrade_to_empty_and_back(db: Database) -> None:
    migrate.downgrade(db.engine, "base")
    assert db.revision() is None
    db.upgrade()
    assert migrate.schema_differences(db.engine) == []


def test_unmigrated_database_is_refused_with_the_fix(make_db: DatabaseFactory) -> None:
    db = make_db(migrated=False)
    with pytest.raises(StoreError, match="run `fbss db upgrade`"):
        db.require_current_schema()


def test_unknown_newer_revision_is_refused(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="newer version"):
        db.require_current_schema()


def test_migrations_ship_inside_the_package() -> None:
    assert migrate.MIGRATIONS_DIR.is_relative_to(migrate.MIGRATIONS_DIR.parents[1])
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()
    assert [s.revision for s in migrate.scripts()][-1] == "0001"
