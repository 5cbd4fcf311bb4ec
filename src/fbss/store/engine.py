"""Open a database: SQLite with WAL, foreign keys and write-locking transactions; or PostgreSQL.

Three kinds of engine on one database:
- `writer`: every transaction takes the write lock first (SQLite `BEGIN IMMEDIATE`), waiting up to 30 s;
- `reader`: plain read transactions that never take or wait for the write lock (SQLite `query_only`), so a held
  lock or a full disk does not stop a page from being read;
- `quick`: like `writer` but waits at most a few seconds, for the audit entries of reads (see `fbss.store.audit`).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from fbss.store.errors import DatabaseUnavailableError, StoreError
from fbss.store.files import touch_private

SQLITE_BUSY_SECONDS = 30.0
_HOLDS_WRITER = "fbss_holds_writer_lock"

# Threads of this process queue for a database file's write lock on one lock per file, shared by its engines.
_WRITER_LOCKS: dict[str, threading.Lock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(key: str) -> threading.Lock:
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(key, threading.Lock())


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600) in a folder of the owner's (0700)."""
    try:
        touch_private(path.expanduser())
    except OSError as exc:
        raise StoreError(f"cannot create the database file {path} ({exc.strerror})") from None


def _sqlite_engine(url: URL, *, mode: str = "writer", wait_seconds: float = SQLITE_BUSY_SECONDS) -> Engine:
    memory = _is_memory(url)
    if not memory and mode == "writer":
        assert url.database is not None
        _private_file(Path(url.database))
    extra: dict[str, Any] = {"poolclass": StaticPool} if memory else {}
    engine = create_engine(
        url,
        connect_args={"timeout": wait_seconds, "check_same_thread": False},
        hide_parameters=True,  # values (names, answers) never appear in an error message or a traceback
        **extra,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # The driver must not open transactions behind our back; `_on_begin` opens them explicitly.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if mode == "reader":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    if mode == "reader":

        @event.listens_for(engine, "begin")
        def _on_read_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")  # deferred: a snapshot, no write lock

        return engine

    # Threads of this process queue for the write lock on a lock of their own rather than in SQLite's busy
    # handler, which polls with sleeps of up to 100 ms: under concurrent page views a thread could lose the race
    # again and again while others got through. Other processes still queue on the busy timeout.
    writer = _writer_lock(str(engine.url) if memory else str(Path(url.database or "").expanduser().resolve()))

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every user action writes (at least its audit entry), so take the write lock at the start: concurrent
        # writers then queue on the busy timeout instead of failing with "database is locked" on lock upgrade.
        info = connection.info
        if not info.get(_HOLDS_WRITER):
            if not writer.acquire(timeout=wait_seconds):
                raise DatabaseUnavailableError(f"database {url.database}: busy for {wait_seconds:g} s; try again")
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


def _postgres_engine(url: URL, *, mode: str, wait_seconds: float) -> Engine:
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if mode == "quick":
        milliseconds = int(wait_seconds * 1000)

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            # Waiting for the audit lock or a blocked disk ends after `wait_seconds`.
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")

    return engine


def make_engine(url: URL, *, mode: str = "writer", wait_seconds: float = SQLITE_BUSY_SECONDS) -> Engine:
    """An engine for the URL (SQLite and PostgreSQL only): `writer`, `reader` or `quick` (see the module doc)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, mode=mode, wait_seconds=wait_seconds)
    return _postgres_engine(url, mode=mode, wait_seconds=wait_seconds)
