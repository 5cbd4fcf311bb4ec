"""Alembic environment, run by `fbss.store.migrate` with an open connection (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from fbss.store.models import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run `fbss db upgrade`")
run_migrations(context.config.attributes["connection"])
