"""Audit entries of reads, written so that they cannot stop the read.

A read runs in a read-only transaction; its entries are then appended in a short transaction of their own that waits
at most `AUDIT_WAIT_SECONDS` (2 s) for the write lock or a blocked disk. If that fails, the read still answers and its
entries wait here, in order, to be written first by the next transaction that can write (a later read's, or any
user action's). Nothing is dropped: the admin's audit page and the log say how many entries wait and why, and when
`MAX_PENDING` entries are waiting, reads are refused until the log can be written again (fail closed).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from fbss.store import audit
from fbss.store.audit import Event
from fbss.store.errors import DatabaseUnavailableError, StoreError

if TYPE_CHECKING:
    from fbss.store.database import Database

log = logging.getLogger("fbss.store.audit")

MAX_PENDING = 10_000
RETRY_SECONDS = 5.0  # after a failure, later reads queue their entries at once instead of each waiting again

Entry = tuple[str, Event, dt.datetime]


@dataclass(frozen=True, slots=True)
class PendingAudit:
    """Audit entries not yet written: how many, since when, and the last reason."""

    entries: int
    since: dt.datetime
    reason: str


class AuditTrail:
    """The queue of one database's audit entries that could not be written yet (one per process)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._pending: list[Entry] = []
        self._in_flight: list[Entry] = []
        self._since: dt.datetime | None = None
        self._reason = ""
        self._last_failure = 0.0

    def status(self) -> PendingAudit | None:
        with self._lock:
            count = len(self._pending) + len(self._in_flight)
            if not count or self._since is None:
                return None
            return PendingAudit(count, self._since, self._reason)

    def writes_failing(self) -> bool:
        """Whether a write of this kind failed a moment ago (other small writes then skip waiting too)."""
        with self._lock:
            return time.monotonic() - self._last_failure < RETRY_SECONDS

    def note_write_failure(self) -> None:
        with self._lock:
            self._last_failure = time.monotonic()

    def check_capacity(self) -> None:
        """Refuse a read when too many of its predecessors' entries are still unwritten."""
        with self._lock:
            waiting = len(self._pending) + len(self._in_flight)
        if waiting >= MAX_PENDING:
            raise DatabaseUnavailableError(
                f"the audit log cannot be written ({self._reason}); reads are paused until it can be"
            )

    # -- entries of reads ---------------------------------------------------------------------------------------

    def record(self, who: str, events: list[Event], at: dt.datetime) -> None:
        """Write a read's entries (and any waiting before them) now, or keep them for the next transaction."""
        if not events:
            return
        with self._lock:
            self._pending.extend((who, event, at) for event in events)
            if self._in_flight or time.monotonic() - self._last_failure < RETRY_SECONDS:
                return  # another thread is writing, or the database failed a moment ago: do not wait again
            batch = self._take()
        try:
            with self._db.errors(), self._db.quick_sessions() as session, session.begin():
                audit.append_entries(session, batch)
        except (StoreError, DatabaseUnavailableError, OSError) as exc:
            self._failed(batch, exc)
        else:
            self._written()

    # -- entries carried by a write transaction -------------------------------------------------------------------

    def take_for(self, session: Session) -> list[Entry]:
        """The waiting entries, appended to the caller's transaction (which holds the write lock) before its own.
        Call `written()` after commit, or `failed()` after a rollback."""
        with self._lock:
            if self._in_flight or not self._pending:
                return []
            batch = self._take()
        audit.append_entries(session, batch)
        return batch

    def written(self) -> None:
        self._written()

    def returned(self, batch: list[Entry], reason: BaseException) -> None:
        if batch:
            self._failed(batch, reason)

    # -- internals --------------------------------------------------------------------------------------------------

    def _take(self) -> list[Entry]:
        batch, self._pending = self._pending, []
        self._in_flight = batch
        return batch

    def _written(self) -> None:
        with self._lock:
            self._in_flight = []
            if not self._pending:
                if self._since is not None:
                    log.warning("audit log: waiting entries written; the log is complete again")
                self._since, self._reason = None, ""

    def _failed(self, batch: list[Entry], exc: BaseException) -> None:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        with self._lock:
            self._pending = batch + self._pending  # back in front, in their order
            self._in_flight = []
            self._last_failure = time.monotonic()
            self._reason = reason
            if self._since is None:
                self._since = dt.datetime.now(dt.UTC)
            waiting = len(self._pending)
        log.error("audit log: %d entr%s waiting to be written (%s)", waiting, "y" if waiting == 1 else "ies", reason)
