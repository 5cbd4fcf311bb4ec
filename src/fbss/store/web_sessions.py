"""Server-side sessions of the web app: a browser's cookie holds a random key; only its SHA-256 is stored, with
whose session it is (a user's or a portal link's), when it started, when it was last used and when it ended.

A session ends at sign-out, when its user's password changes or the account is disabled, when its portal link is
finished or withdrawn, and after inactivity or its maximum age; an ended session never opens anything again, even
with a copy of the cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fbss.store.accounts import UserRecord, user_record
from fbss.store.database import Database
from fbss.store.errors import DatabaseUnavailableError, StoreError
from fbss.store.models import User, WebSession
from fbss.store.repository import utc_now

log = logging.getLogger("fbss.store.sessions")

KEY_BYTES = 32
TOUCH_EVERY = dt.timedelta(minutes=1)  # last use is written at most this often per session


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live session: its row id, its user (with role and status) or its portal link, and its times."""

    id: int
    user: UserRecord | None
    portal_link_id: int | None
    created_at: dt.datetime
    last_seen_at: dt.datetime


def end_sessions(
    session: Session,
    now: dt.datetime,
    reason: str,
    *,
    user_id: int | None = None,
    portal_link_id: int | None = None,
    keep: int | None = None,
) -> None:
    """End every live session of a user or of a portal link, in the caller's transaction (except `keep`)."""
    query = update(WebSession).where(WebSession.ended_at.is_(None))
    if user_id is not None:
        query = query.where(WebSession.user_id == user_id)
    elif portal_link_id is not None:
        query = query.where(WebSession.portal_link_id == portal_link_id)
    else:
        raise ValueError("end_sessions needs a user or a portal link")
    if keep is not None:
        query = query.where(WebSession.id != keep)
    session.execute(query.values(ended_at=now, end_reason=reason))


class WebSessions:
    """Start, find, touch and end browser sessions."""

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.db = db
        self._clock = clock

    def start(
        self,
        *,
        user_id: int | None = None,
        portal_link_id: int | None = None,
        replacing: int | None = None,
        reason: str = "replaced",
    ) -> tuple[str, SessionRecord]:
        """A new session for a user or a portal link (ending `replacing`, the browser's previous one)."""
        if (user_id is None) == (portal_link_id is None):
            raise ValueError("a session belongs to a user or to a portal link")
        key = secrets.token_urlsafe(KEY_BYTES)
        now = self._clock()
        with self.db.errors(), self.db.sessions() as session, session.begin():
            if replacing is not None:
                self._end(session, replacing, reason, now)
            row = WebSession(
                key_hash=key_hash(key),
                user_id=user_id,
                portal_link_id=portal_link_id,
                created_at=now,
                last_seen_at=now,
                ended_at=None,
                end_reason=None,
            )
            session.add(row)
            session.flush()
            user = session.get(User, user_id) if user_id is not None else None
            return key, SessionRecord(row.id, user_record(user) if user else None, portal_link_id, now, now)

    def find(self, key: str) -> SessionRecord | None:
        """The live session a cookie's key names (read-only; ended, unknown or disabled-user sessions: None)."""
        if not key or len(key) > 100:
            return None
        with self.db.errors(), self.db.read_sessions() as session:
            found = session.execute(
                select(WebSession, User)
                .outerjoin(User, User.id == WebSession.user_id)
                .where(WebSession.key_hash == key_hash(key), WebSession.ended_at.is_(None))
            ).first()
            if found is None:
                return None
            row, user = found
            if row.user_id is not None and (user is None or user.disabled_at is not None):
                return None
            return SessionRecord(
                row.id, user_record(user) if user else None, row.portal_link_id, row.created_at, row.last_seen_at
            )

    def touch(self, record: SessionRecord) -> None:
        """Note that the session was used (at most once a minute); a failure only delays the idle sign-out."""
        now = self._clock()
        if now - record.last_seen_at < TOUCH_EVERY or self.db.audit_trail.writes_failing():
            return  # recent enough, or the database refused a write a moment ago: do not make a page wait
        try:
            with self.db.errors(), self.db.quick_sessions() as session, session.begin():
                session.execute(update(WebSession).where(WebSession.id == record.id).values(last_seen_at=now))
        except (StoreError, DatabaseUnavailableError) as exc:
            self.db.audit_trail.note_write_failure()
            log.warning("session last use not recorded (%s)", exc)

    def end(self, session_id: int, reason: str) -> None:
        with self.db.errors(), self.db.sessions() as session, session.begin():
            self._end(session, session_id, reason, self._clock())

    def end_for_user(self, user_id: int, reason: str, *, keep: int | None = None) -> None:
        with self.db.errors(), self.db.sessions() as session, session.begin():
            end_sessions(session, self._clock(), reason, user_id=user_id, keep=keep)

    @staticmethod
    def _end(session: Session, session_id: int, reason: str, now: dt.datetime) -> None:
        session.execute(
            update(WebSession)
            .where(WebSession.id == session_id, WebSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason)
        )
