"""A database handle: engine, session factory, schema check, and driver errors turned into StoreError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fbss.store import migrate
from fbss.store.config import database_url, shown
from fbss.store.engine import make_engine
from fbss.store.errors import StoreError
from fbss.store.models import Base


class Database:
    """One database, SQLite or PostgreSQL, opened with `Database.open(url)`; a Repository works on it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | URL | None = None) -> Database:
        """Open `url`, else `FBSS_DATABASE_URL`, else the default SQLite file. Does not touch the schema."""
        resolved = url if isinstance(url, URL) else database_url(url)
        return cls(make_engine(resolved))

    @property
    def url(self) -> str:
        """The URL with any password hidden."""
        return shown(self.engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

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
            raise StoreError(f"database {self.url}: {reason}") from None
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreError(f"database {self.url}: the connection was lost; try again") from None
            raise

    def revision(self) -> str | None:
        with self.errors():
            return migrate.current_revision(self.engine)

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
        """How many rows each FBSS table holds (for status, and to refuse restoring into a used database)."""
        with self.errors(), self.sessions() as session:
            return {
                table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }

    def session(self) -> Session:
        return self.sessions()
