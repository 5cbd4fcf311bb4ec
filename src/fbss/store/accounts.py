"""Web app accounts: clinicians and admins, with scrypt-hashed passwords; sign-ins are audited.

Separation of duties: the web app's admins manage accounts but never see a patient record, so they cannot create
clinician accounts either (they could sign in with one); clinician accounts are created by the operator on the
command line (`fbss user add NAME --role clinician`), who has the database in hand anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fbss.store.audit import Action, Entity, Event
from fbss.store.errors import StoreError
from fbss.store.models import User
from fbss.store.passwords import dummy_hash, hash_password, password_problem, verify_password
from fbss.store.repository import Repository
from fbss.store.roles import Role as Role  # callers import it from here too

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")  # with fullmatch: no trailing newline


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    display_name: str | None
    role: Role
    active: bool
    created_by: str = ""

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


def user_record(row: User) -> UserRecord:
    return UserRecord(row.id, row.username, row.display_name, Role(row.role), row.disabled_at is None, row.created_by)


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise StoreError("username: 2 to 64 lower-case letters, digits and . _ -, starting with a letter or digit")
    return username


class Accounts(Repository):
    """User accounts; `user` (the audit log's "who") is the admin or operator acting, or the person signing in."""

    def create_user(self, username: str, password: str, role: Role, *, display_name: str | None = None) -> UserRecord:
        """Add an account; refuses a user name already in use or a password that is too short."""
        check_username(username)
        problem = password_problem(password)
        if problem:
            raise StoreError(problem)
        hashed = hash_password(password)
        with self._unit() as unit:
            if unit.session.scalar(select(User.id).where(User.username == username)) is not None:
                raise StoreError(f"username: '{username}' is already in use")
            row = User(
                username=username,
                display_name=(display_name or "").strip() or None,
                role=role.value,
                password_hash=hashed,
                created_by=self.user,
                created_at=self.now(),
                disabled_at=None,
            )
            unit.session.add(row)
            unit.session.flush()
            unit.log(Action.create, Entity.user, row.id)
            return user_record(row)

    def set_password(self, username: str, password: str, *, keep_session: int | None = None) -> UserRecord:
        """A new password; every session of the account ends (but `keep_session`, the browser that changed it)."""
        from fbss.store.web_sessions import end_sessions

        problem = password_problem(password)
        if problem:
            raise StoreError(problem)
        hashed = hash_password(password)
        with self._unit() as unit:
            row = self._find_user(unit.session, username)
            row.password_hash = hashed
            end_sessions(unit.session, self.now(), "password", user_id=row.id, keep=keep_session)
            unit.log(Action.update, Entity.user, row.id)
            return user_record(row)

    def change_password(self, user_id: int, current: str, new: str, *, keep_session: int | None = None) -> UserRecord:
        """The account holder's own change: the current password must be right; other sessions end."""
        with self.db.errors(), self.db.read_sessions() as session:
            row = session.get(User, user_id)
            stored = row.password_hash if row is not None else dummy_hash()
            username = row.username if row is not None else ""
        if row is None or not verify_password(current, stored):
            raise StoreError("current password: not right")
        if new == current:
            raise StoreError("new password: choose one different from the current password")
        return self.set_password(username, new, keep_session=keep_session)

    def set_active(self, user_id: int, active: bool) -> UserRecord:
        """Disable an account (its sessions end at once) or enable it again."""
        from fbss.store.web_sessions import end_sessions

        with self._unit() as unit:
            row = unit.session.get(User, user_id)
            if row is None:
                raise StoreError(f"no user with id {user_id}")
            row.disabled_at = None if active else self.now()
            if not active:
                end_sessions(unit.session, self.now(), "disabled", user_id=row.id)
            unit.log(Action.update, Entity.user, row.id)
            return user_record(row)

    def ensure_user(self, username: str, password: str, role: Role, *, display_name: str | None = None) -> UserRecord:
        """Create the account, or reset the password of an account this same actor created (demo accounts).

        An account someone else created is never touched, and a disabled account stays disabled."""
        with self.db.errors(), self.db.read_sessions() as session:
            existing = session.scalar(select(User).where(User.username == username))
            owner = existing.created_by if existing is not None else None
            disabled = existing is not None and existing.disabled_at is not None
        if existing is None:
            return self.create_user(username, password, role, display_name=display_name)
        if owner != self.user:
            raise StoreError(f"account '{username}' was created by {owner!r}, not by {self.user!r}; left unchanged")
        if disabled:
            raise StoreError(f"account '{username}' is disabled; an admin can enable it again")
        record = self.set_password(username, password)
        if record.role is not role:
            raise StoreError(f"account '{username}' has the role {record.role.value}, not {role.value}")
        return record

    def verify(self, username: str, password: str) -> UserRecord | None:
        """The active account if the password matches, else None; not audited (see `record_sign_in`).

        A wrong user name costs a whole password check too, so response times do not reveal which accounts exist."""
        with self.db.errors(), self.db.read_sessions() as session:
            row = session.scalar(select(User).where(User.username == username))
            stored = row.password_hash if row is not None else dummy_hash()
            record = user_record(row) if row is not None else None
        ok = verify_password(password, stored) and record is not None and record.active
        return record if ok else None

    def user_id_of(self, username: str) -> int | None:
        """The id of an account by name, for sign-in records (not audited)."""
        with self.db.errors(), self.db.read_sessions() as session:
            found: int | None = session.scalar(select(User.id).where(User.username == username))
            return found

    def record_sign_in(self, action: Action, user_id: int | None, detail: str | None = None) -> None:
        """One sign-in entry: a success, the first failure of a series, or a lockout (with counts only)."""
        with self._unit() as unit:
            unit.events.append(Event(action, Entity.user, None if user_id is None else str(user_id), None, detail))

    def get(self, user_id: int) -> UserRecord | None:
        """An account by id (not audited)."""
        with self.db.errors(), self.db.read_sessions() as session:
            row = session.get(User, user_id)
            return user_record(row) if row is not None else None

    def list_users(self) -> list[UserRecord]:
        with self._read() as unit:
            rows = unit.session.scalars(select(User).order_by(User.username)).all()
            unit.log(Action.list_, Entity.user)
            return [user_record(r) for r in rows]

    def log_out(self, user_id: int) -> None:
        with self._unit() as unit:
            unit.log(Action.logout, Entity.user, user_id)

    @staticmethod
    def _find_user(session: Session, username: str) -> User:
        row = session.scalar(select(User).where(User.username == username))
        if row is None:
            raise StoreError(f"no user named '{username}'")
        return row
