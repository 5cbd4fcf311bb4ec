"""Web app accounts: clinicians and admins, with scrypt-hashed passwords; sign-ins are audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from fbss.store.audit import Action, Entity
from fbss.store.errors import StoreError
from fbss.store.models import User
from fbss.store.passwords import dummy_hash, hash_password, password_problem, verify_password
from fbss.store.repository import Repository

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class Role(StrEnum):
    """A clinician works with patient records; an admin manages accounts and reads the audit log, not records."""

    clinician = "clinician"
    admin = "admin"


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    display_name: str | None
    role: Role
    active: bool

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


def _record(row: User) -> UserRecord:
    return UserRecord(row.id, row.username, row.display_name, Role(row.role), row.disabled_at is None)


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise StoreError("username: 2 to 64 lower-case letters, digits and . _ -, starting with a letter or digit")
    return username


class Accounts(Repository):
    """User accounts; `user` (the audit log's "who") is the admin acting, or the person signing in."""

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
            return _record(row)

    def set_password(self, username: str, password: str) -> UserRecord:
        problem = password_problem(password)
        if problem:
            raise StoreError(problem)
        hashed = hash_password(password)
        with self._unit() as unit:
            row = self._find_user(unit.session, username)
            row.password_hash = hashed
            unit.log(Action.update, Entity.user, row.id)
            return _record(row)

    def set_active(self, user_id: int, active: bool) -> UserRecord:
        """Disable an account (its sessions stop working at the next request) or enable it again."""
        with self._unit() as unit:
            row = unit.session.get(User, user_id)
            if row is None:
                raise StoreError(f"no user with id {user_id}")
            row.disabled_at = None if active else self.now()
            unit.log(Action.update, Entity.user, row.id)
            return _record(row)

    def ensure_user(self, username: str, password: str, role: Role, *, display_name: str | None = None) -> UserRecord:
        """Create the account, or reset its password, role and status (for demo and first-run accounts)."""
        with self.db.sessions() as session:
            exists = session.scalar(select(User.id).where(User.username == username)) is not None
        if not exists:
            return self.create_user(username, password, role, display_name=display_name)
        problem = password_problem(password)
        if problem:
            raise StoreError(problem)
        hashed = hash_password(password)
        with self._unit() as unit:
            row = self._find_user(unit.session, username)
            row.password_hash, row.role, row.disabled_at = hashed, role.value, None
            if display_name:
                row.display_name = display_name
            unit.log(Action.update, Entity.user, row.id)
            return _record(row)

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The account if the password matches and the account is active; every attempt is audited."""
        with self.db.sessions() as session:
            row = session.scalar(select(User).where(User.username == username.strip().lower()))
            stored = row.password_hash if row is not None else dummy_hash()
            ok = verify_password(password, stored) and row is not None and row.disabled_at is None
            record = _record(row) if row is not None else None
        with self._unit() as unit:
            if ok and record is not None:
                unit.log(Action.login, Entity.user, record.id)
            else:
                unit.log(Action.login_failed, Entity.user, record.id if record else None)
        return record if ok else None

    def get(self, user_id: int) -> UserRecord | None:
        """The account behind a session (not audited: it runs on every request)."""
        with self.db.errors(), self.db.sessions() as session:
            row = session.get(User, user_id)
            return _record(row) if row is not None else None

    def list_users(self) -> list[UserRecord]:
        with self._unit() as unit:
            rows = unit.session.scalars(select(User).order_by(User.username)).all()
            unit.log(Action.list_, Entity.user)
            return [_record(r) for r in rows]

    def log_out(self, user_id: int) -> None:
        with self._unit() as unit:
            unit.log(Action.logout, Entity.user, user_id)

    @staticmethod
    def _find_user(session: Session, username: str) -> User:
        row = session.scalar(select(User).where(User.username == username))
        if row is None:
            raise StoreError(f"no user named '{username}'")
        return row
