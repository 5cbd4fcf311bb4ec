"""Whole-database backup to a JSON or SQLite file, and restore into an empty database, row for row."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Date, Table, create_engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from fbss import jsonlimits
from fbss.case.parse import parse_case
from fbss.errors import CaseError
from fbss.store import audit, migrate
from fbss.store.audit import Action, Entity, Event
from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.files import open_private
from fbss.store.models import TRANSIENT, Base, UtcDateTime
from fbss.store.outcomes import answers_problem
from fbss.store.repository import utc_now

FORMAT = "fbss-backup"
FORMAT_VERSION = 1
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
JSON_SUFFIXES = (".json",)

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class BackupSummary:
    path: Path
    kind: str
    revision: str
    rows: dict[str, int]


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in SQLITE_SUFFIXES:
        return "sqlite"
    raise StoreError(f"{path}: name the backup *.json or *.sqlite3 (also .sqlite, .db) to choose its format")


def _tables() -> list[Table]:
    """The tables a backup holds, parents before children; sessions are state, not records, and stay out."""
    return [table for table in Base.metadata.sorted_tables if table.name not in TRANSIENT]


def read_rows(connection: Connection) -> Rows:
    """Every row of every FBSS table, in id order, as Python values (aware datetimes, dates, dicts)."""
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table).order_by(table.c.id))]
        for table in _tables()
    }


def _write_rows(connection: Connection, rows: Rows) -> None:
    for table in _tables():
        batch = rows.get(table.name, [])
        if batch:
            try:
                connection.execute(insert(table), batch)
            except IntegrityError:
                # The driver's message would quote the row (answers, names): name the table and the rule only.
                raise StoreError(
                    f"the backup's {table.name} rows break a database rule (a duplicate id or key, or a row whose "
                    "parent is missing); nothing was restored"
                ) from None
    if connection.dialect.name == "postgresql":
        # Rows came with their ids; move each id sequence past them.
        for table in _tables():
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                )
            )


# -- JSON encoding -------------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decode_rows(document: Any, origin: str) -> Rows:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StoreError(f'{origin}: not an FBSS Navigator backup (no "format": "{FORMAT}")')
    if document.get("format_version") != FORMAT_VERSION:
        raise StoreError(
            f"{origin}: backup format version {document.get('format_version')!r}; expected {FORMAT_VERSION}"
        )
    _check_revision(document.get("schema_revision"), origin)
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise StoreError(f'{origin}: "tables" must be an object')
    rows: Rows = {}
    known = {table.name: table for table in _tables()}
    for name in tables:
        if name not in known:
            raise StoreError(f"{origin}: unknown table '{name}'")
    for name, table in known.items():
        raw = tables.get(name, [])
        if not isinstance(raw, list):
            raise StoreError(f"{origin}: table '{name}' must be a list of rows")
        columns = {column.name for column in table.columns}
        decoded = []
        for index, row in enumerate(raw):
            if not isinstance(row, dict) or set(row) != columns:
                raise StoreError(f"{origin}: {name}[{index}] must have exactly the columns {sorted(columns)}")
            try:
                decoded.append({column.name: _decode(column.type, row[column.name]) for column in table.columns})
            except (TypeError, ValueError) as exc:
                raise StoreError(f"{origin}: {name}[{index}]: {exc}") from None
        rows[name] = decoded
    return rows


def _decode(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, UtcDateTime):
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no time zone")
        return parsed.astimezone(dt.UTC)
    if isinstance(column_type, Date):
        return dt.date.fromisoformat(value)
    return value


def _check_revision(revision: Any, origin: str) -> str:
    head = migrate.head_revision()
    if revision != head:
        raise StoreError(
            f"{origin}: backup of schema revision {revision!r}, this version of FBSS Navigator has {head!r}; "
            "restore it with the version that made it, then run `fbss db upgrade`"
        )
    return head


# -- backup --------------------------------------------------------------------------------------------------


def backup(db: Database, path: Path, user: str, *, read_only: bool = False) -> BackupSummary:
    """Copy the whole database (audit log included, with this backup's own entry) to a new file.

    `read_only`: for a database that cannot be written (a full disk, a lock held elsewhere): one consistent read
    without the write lock; the backup's audit entry is then only queued (see `Database.audit_trail`), and the
    caller must say so if it could not be written."""
    kind = _kind(path)
    if path.exists():
        raise StoreError(f"{path} already exists; choose a new file name (a backup never overwrites)")
    db.require_current_schema()
    revision = migrate.head_revision()
    sessions = db.read_sessions if read_only else db.sessions
    with db.errors(), sessions() as session, session.begin():
        if read_only:
            if db.dialect == "postgresql":
                session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        else:
            # The audit append takes the lock every committing writer needs, so nothing commits while we read.
            audit.append(session, user, [Event(Action.backup, Entity.database)], utc_now())
        rows = read_rows(session.connection())
        try:
            if kind == "json":
                _write_json(path, rows, revision, db.dialect)
            else:
                _write_sqlite(path, rows)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise StoreError(f"{path}: cannot write the backup ({exc.strerror})") from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    if read_only:
        db.audit_trail.record(user, [Event(Action.backup, Entity.database, detail="read-only")], utc_now())
    return BackupSummary(path, kind, revision, {name: len(batch) for name, batch in rows.items()})


def _write_json(path: Path, rows: Rows, revision: str, dialect: str) -> None:
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_revision": revision,
        "created_at": utc_now().isoformat(),
        "source": dialect,
        "tables": {name: [{k: _encode(v) for k, v in row.items()} for row in batch] for name, batch in rows.items()},
    }
    partial = path.with_name(path.name + ".partial")
    with open_private(partial) as handle:
        json.dump(document, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    partial.rename(path)


def _write_sqlite(path: Path, rows: Rows) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    target = Database.open(f"sqlite:///{partial}")
    try:
        migrate.upgrade(target.engine)
        with target.engine.begin() as connection:
            _write_rows(connection, rows)
    finally:
        target.close()
    # One self-contained file: leave WAL mode so there is no -wal/-shm beside it.
    plain = sqlite3.connect(partial, isolation_level=None)
    try:
        plain.execute("PRAGMA journal_mode = DELETE")
    finally:
        plain.close()
    partial.rename(path)


# -- restore -------------------------------------------------------------------------------------------------


def load_backup(path: Path) -> Rows:
    """Read and check a backup file (JSON or SQLite) without touching any database: its format, then its content
    (every case valid, every questionnaire's answers scorable, the audit log's hash chain intact)."""
    kind = _kind(path)
    if not path.is_file():
        raise StoreError(f"{path}: no such backup file")
    if kind == "json":
        try:
            document = jsonlimits.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise StoreError(f"{path}: cannot read the backup ({exc})") from None
        rows = _decode_rows(document, str(path))
    else:
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", hide_parameters=True)
        try:
            revision = migrate.current_revision(engine)
            _check_revision(revision, str(path))
            with engine.connect() as connection:
                rows = read_rows(connection)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"{path}: not a readable FBSS Navigator SQLite backup ({exc.__class__.__name__})"
            ) from None
        finally:
            engine.dispose()
    check_content(rows, str(path))
    return rows


def check_content(rows: Rows, origin: str) -> None:
    """What the database itself would not catch: invalid cases, out-of-range answers, an altered audit log.
    Messages name the table and row, never the content."""
    for index, row in enumerate(rows.get("case_versions", [])):
        try:
            parse_case(row["case_json"], origin=f"case_versions[{index}].case_json")
        except CaseError as exc:
            raise StoreError(f"{origin}: {exc}; nothing was restored") from None
    for index, row in enumerate(rows.get("questionnaire_responses", [])):
        problem = answers_problem(row["instrument_id"], row["answers"])
        if problem:
            raise StoreError(f"{origin}: questionnaire_responses[{index}]: {problem}; nothing was restored")
    entries = sorted(rows.get("audit_log", []), key=lambda entry: entry["id"])
    check = audit.check_chain(SimpleNamespace(**entry) for entry in entries)
    if not check.intact:
        raise StoreError(
            f"{origin}: audit_log entry {check.first_broken_id} does not match the hash chain: the backup was "
            "altered after it was made; nothing was restored"
        )


def restore(db: Database, path: Path, user: str) -> BackupSummary:
    """Load a backup into an empty database (migrating it first if it has no tables); refuse one with data."""
    rows = load_backup(path)
    revision = db.revision()
    if revision is None:
        db.upgrade()
    db.require_current_schema()
    with db.errors(), db.sessions() as session, session.begin():
        connection = session.connection()
        if db.dialect == "postgresql":
            connection.execute(audit.lock_statement(), {"key": audit.AUDIT_LOCK_KEY})
        used = {
            table.name: count
            for table in _tables()
            if (count := connection.execute(select(func.count()).select_from(table)).scalar_one())
        }
        if used:
            listed = ", ".join(f"{name} ({count})" for name, count in sorted(used.items()))
            raise StoreError(f"database {db.url} is not empty: {listed}; restore only into a new, empty database")
        _write_rows(connection, rows)
        audit.append(session, user, [Event(Action.restore, Entity.database)], utc_now())
    return BackupSummary(path, _kind(path), migrate.head_revision(), {name: len(batch) for name, batch in rows.items()})
