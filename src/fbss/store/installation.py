"""Facts about an installation kept in its database (the `settings` table): what the database is for."""

from __future__ import annotations

from sqlalchemy import func, select

from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.models import Patient, Setting, User

PURPOSE = "purpose"
DEMO = "demo"


def purpose(db: Database) -> str | None:
    """`demo` for the database `fbss serve --demo` made; None for a clinic's own database."""
    with db.errors(), db.read_sessions() as session:
        value: str | None = session.scalar(select(Setting.value).where(Setting.key == PURPOSE))
        return value


def claim_for_demo(db: Database, demo_user: str) -> None:
    """Mark the database as the demo's, or refuse: only an empty database (or one the demo made) becomes one.

    The demo adds synthetic patients (which can never be deleted) and resets its accounts' passwords, so it must
    never run on a clinic's records."""
    with db.errors(), db.sessions() as session, session.begin():
        if session.scalar(select(Setting.value).where(Setting.key == PURPOSE)) == DEMO:
            return
        others = {
            "patient(s)": session.scalar(
                select(func.count()).select_from(Patient).where(Patient.created_by != demo_user)
            )
            or 0,
            "account(s)": session.scalar(select(func.count()).select_from(User).where(User.created_by != demo_user))
            or 0,
        }
        if any(others.values()):
            held = " and ".join(f"{count} {what}" for what, count in others.items() if count)
            raise StoreError(
                f"database {db.url} is not a demo database: it holds {held} made outside the demo. The demo adds "
                "synthetic patients and resets its accounts' passwords, so it only runs on a database of its own: "
                "leave out --database (the demo then uses demo.sqlite3 in the data directory) or name a new file"
            )
        session.add(Setting(key=PURPOSE, value=DEMO))
