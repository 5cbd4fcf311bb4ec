"""The append-only, hash-chained audit log: who did what to which record, and when; never clinical content."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy import TextClause, select, text
from sqlalchemy.orm import Session

from fbss.store.models import AuditEntry

GENESIS = "0" * 64
# Any fixed number: PostgreSQL advisory lock that serialises appends, so the chain has one order.
AUDIT_LOCK_KEY = 4_711_000_001


class Action(StrEnum):
    create = "create"
    read = "read"
    list_ = "list"
    export = "export"
    import_ = "import"
    backup = "backup"
    restore = "restore"
    update = "update"
    login = "login"
    login_failed = "login_failed"
    login_locked = "login_locked"
    logout = "logout"


class Entity(StrEnum):
    patient = "patient"
    case_version = "case_version"
    assessment = "assessment"
    questionnaire_response = "questionnaire_response"
    audit_log = "audit_log"
    database = "database"
    user = "user"
    portal_link = "portal_link"
    safety_alert = "safety_alert"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a user action did, before it is written: no clinical content, only kinds and ids."""

    action: Action
    entity: Entity
    entity_id: str | None = None
    patient_id: int | None = None
    detail: str | None = None  # counts only, e.g. "failures=12"; never names, values or clinical content


def chain_hash(previous: str, at: dt.datetime, who: str, event: Event) -> str:
    """SHA-256 over the previous entry's hash and this entry's fields; any later edit breaks the chain."""
    fields = [
        previous,
        at.astimezone(dt.UTC).isoformat(),
        who,
        event.action.value,
        event.entity.value,
        event.entity_id or "",
        "" if event.patient_id is None else str(event.patient_id),
    ]
    if event.detail is not None:  # entries written before details existed keep their hashes
        fields.append(event.detail)
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def lock_statement() -> TextClause:
    """PostgreSQL: wait for, then hold until commit, the lock every committing writer takes."""
    return text("SELECT pg_advisory_xact_lock(:key)")


def append(session: Session, who: str, events: list[Event], at: dt.datetime) -> None:
    """Append entries in the caller's transaction; serialised so each links to the one before."""
    append_entries(session, [(who, event, at) for event in events])


def append_entries(session: Session, entries: list[tuple[str, Event, dt.datetime]]) -> None:
    """Append (who, event, at) entries in the caller's transaction, in order, each linked to the one before."""
    if not entries:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(lock_statement(), {"key": AUDIT_LOCK_KEY})
    # SQLite: the transaction already holds the write lock (BEGIN IMMEDIATE).
    previous = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    for who, event, at in entries:
        digest = chain_hash(previous, at, who, event)
        session.add(
            AuditEntry(
                at=at,
                who=who,
                action=event.action.value,
                entity=event.entity.value,
                entity_id=event.entity_id,
                patient_id=event.patient_id,
                detail=event.detail,
                previous_hash=previous,
                hash=digest,
            )
        )
        previous = digest
    session.flush()


@dataclass(frozen=True, slots=True)
class ChainCheck:
    entries: int
    first_broken_id: int | None

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


class _Row(Protocol):
    id: int
    at: dt.datetime
    who: str
    action: str
    entity: str
    entity_id: str | None
    patient_id: int | None
    detail: str | None
    previous_hash: str
    hash: str


def check_chain(entries: Iterable[_Row]) -> ChainCheck:
    """Recompute every hash in id order; report the first entry whose hash or link does not match."""
    previous = GENESIS
    count = 0
    for entry in entries:
        count += 1
        try:
            event = Event(Action(entry.action), Entity(entry.entity), entry.entity_id, entry.patient_id, entry.detail)
        except ValueError:
            return ChainCheck(count, entry.id)
        if entry.previous_hash != previous or entry.hash != chain_hash(previous, entry.at, entry.who, event):
            return ChainCheck(count, entry.id)
        previous = entry.hash
    return ChainCheck(count, None)


def verify(session: Session) -> ChainCheck:
    """Check the stored audit log's hash chain."""
    return check_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000))
