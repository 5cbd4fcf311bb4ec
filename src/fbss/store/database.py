"""A database handle: engine, session factory, schema check, and driver errors turned into StoreError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fbss.store import migrate
from fbss.store.config import database_url, shown
from fbss.store.engine import make_engine
from fbss.store.errors import DatabaseUnavailableError, StoreError
from fbss.store.models import Base

AUDIT_WAIT_SECONDS = 2.0
"""How long the audit entry of a read may wait for the write lock (or a blocked disk) before the read goes ahead
and the entry waits in memory (see `fbss.store.audit_trail`)."""


class Database:
    """One database, SQLite or PostgreSQL, opened with `Database.open(url)`; a Repository works on it."""

    def __init__(self, engine: Engine, reader: Engine | None = None, quick: Engine | None = None) -> None:
        from fbss.store.audit_trail import AuditTrail

        self.engine = engine
        self.reader = reader or engine
        self.quick = quick or engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.reader, expire_on_commit=False)
        self.quick_sessions = sessionmaker(self.quick, expire_on_commit=False)
        self.audit_trail = AuditTrail(self)

    @classmethod
    def open(cls, url: str | URL | None = None, *, audit_wait_seconds: float = AUDIT_WAIT_SECONDS) -> Database:
        """Open `url`, else `FBSS_DATABASE_URL`, else the default SQLite file. Does not touch the schema."""
        resolved = url if isinstance(url, URL) else database_url(url)
        writer = make_engine(resolved)
        if resolved.get_backend_name() == "sqlite" and resolved.database in (None, "", ":memory:"):
            return cls(writer)  # one in-memory database: every engine must be the same one
        reader = make_engine(resolved, mode="reader") if resolved.get_backend_name() == "sqlite" else writer
        quick = make_engine(resolved, mode="quick", wait_seconds=audit_wait_seconds)
        return cls(writer, reader, quick)

    @property
    def url(self) -> str:
        """The URL with any password hidden."""
        return shown(self.engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        for engine in {id(e): e for e in (self.engine, self.reader, self.quick)}.values():
            engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn driver errors (server down, disk full, locked) into StoreErrors naming the database."""
        try:
            yield
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseUnavailableError(f"database {self.url}: {reason}") from None
        except DataError:
            raise StoreError("a number or text is out of the range the database can hold") from None
        except OverflowError:
            raise StoreError("a number is out of the range the database can hold") from None
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise DatabaseUnavailableError(f"database {self.url}: the connection was lost; try again") from None
            raise

    def revision(self) -> str | None:
        """The schema revision, read without taking the write lock."""
        with self.errors():
            return migrate.current_revision(self.reader)

    def upgrade(self) -> tuple[str | None, str]:
        """Apply the packaged migrations; returns (revision before, revision after)."""
        with self.errors():
            before = migrate.current_revision(self.engine)
            migrate.upgrade(self.engine)
            return before, migrate.head_revision()

    def require_current_schema(self) -> None:
        """Refuse to work on a database that was never migrated, or migrated to another version."""
        current, head = self.revision(), migrate.head_revision()
        if current == head:
            return
        if current is None:
            raise StoreError(f"database {self.url} has no FBSS tables yet; run `fbss db upgrade` first")
        known = {script.revision for script in migrate.scripts()}
        if current in known:
            raise StoreError(
                f"database {self.url} is at schema revision {current}, this version needs {head}; run `fbss db upgrade`"
            )
        raise StoreError(
            f"database {self.url} is at schema revision {current}, unknown to this version "
            "of FBSS Navigator; it was written by a newer version"
        )

    def row_counts(self) -> dict[str, int]:
        """How many rows each FBSS table holds (read-only: works while another process holds the write lock)."""
        with self.errors(), self.read_sessions() as session:
            return {
                table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }

    def session(self) -> Session:
        return self.sessions()
