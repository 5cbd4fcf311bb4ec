"""Open a database: SQLite with WAL, foreign keys and write-locking transactions; or PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from fbss.store.errors import StoreError

SQLITE_BUSY_SECONDS = 30.0
_HOLDS_WRITER = "fbss_holds_writer_lock"


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

    # Threads of this process queue for the write lock on a lock of their own rather than in SQLite's busy
    # handler, which polls with sleeps of up to 100 ms: under concurrent page views a thread could lose the race
    # again and again while others got through. Other processes still queue on the busy timeout.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every user action writes (at least its audit entry), so take the write lock at the start: concurrent
        # writers then queue on the busy timeout instead of failing with "database is locked" on lock upgrade.
        info = connection.info
        if not info.get(_HOLDS_WRITER):
            if not writer.acquire(timeout=SQLITE_BUSY_SECONDS):
                raise StoreError(f"database {url.database}: busy for {SQLITE_BUSY_SECONDS:g} s; try again")
            info[_HOLDS_WRITER] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            info.pop(_HOLDS_WRITER, None)
            writer.release()
            raise

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: object, record: Any) -> None:
        # Back in the pool means committed or rolled back: the next thread may begin.
        if record.info.pop(_HOLDS_WRITER, False):
            writer.release()

    return engine


def make_engine(url: URL) -> Engine:
    """An engine for the URL; SQLite and PostgreSQL only."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)
