"""Open a database: SQLite with WAL, foreign keys and write-locking transactions; or PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from fbss.store.errors import StoreError

SQLITE_BUSY_SECONDS = 30.0


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _sqlite_engine(url: URL) -> Engine:
    if not _is_memory(url):
        assert url.database is not None
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the database folder {folder} ({exc.strerror})") from None
    extra: dict[str, Any] = {"poolclass": StaticPool} if _is_memory(url) else {}
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
        **extra,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # The driver must not open transactions behind our back; `_on_begin` opens them explicitly.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every user action writes (at least its audit entry), so take the write lock at the start: concurrent
        # writers then queue on the busy timeout instead of failing with "database is locked" on lock upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_engine(url: URL) -> Engine:
    """An engine for the URL; SQLite and PostgreSQL only."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)
