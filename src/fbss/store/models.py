"""The database tables as typed SQLAlchemy models; the migrations in `migrations/` must match them exactly."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON text on SQLite, JSONB on PostgreSQL.
Document = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UtcDateTime(), dict[str, Any]: Document}


class Patient(Base):
    """A person under care; `identifier` is the clinic's own record number (MRN-like), unique."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]

    __table_args__ = (CheckConstraint("birth_year IS NULL OR (birth_year BETWEEN 1900 AND 2200)", name="birth_year"),)


class CaseVersion(Base):
    """One immutable snapshot of a patient's case; an edit is a new row with the next version number."""

    __tablename__ = "case_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    version: Mapped[int] = mapped_column(Integer)
    case_json: Mapped[dict[str, Any]]
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]

    __table_args__ = (
        UniqueConstraint("patient_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class Assessment(Base):
    """An assessment of one case version, with everything needed to reproduce it: engine, knowledge, date."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_version_id: Mapped[int] = mapped_column(ForeignKey("case_versions.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    engine_version: Mapped[str] = mapped_column(String(40))
    knowledge_version: Mapped[str] = mapped_column(String(40))
    knowledge_fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]


class QuestionnaireResponse(Base):
    """A completed questionnaire: the answers as given and the score computed from them."""

    __tablename__ = "questionnaire_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    instrument_id: Mapped[str] = mapped_column(String(64))
    time_point: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]]
    score: Mapped[dict[str, Any]]
    completed_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]

    __table_args__ = (Index("ix_questionnaire_responses_patient", "patient_id", "instrument_id", "completed_at"),)


class AuditEntry(Base):
    """One read or write: who, when, what kind of thing, which one. Never clinical content. Hash-chained."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime]
    who: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Counts only (e.g. "failures=12 addresses=2"), never names, values or clinical content; hashed when present.
    detail: Mapped[str | None] = mapped_column(String(200))


class User(Base):
    """A person who signs in to the web app: a clinician (patient records) or an admin (accounts, audit log)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))  # scrypt with a per-user salt; see passwords.py
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    disabled_at: Mapped[dt.datetime | None]

    __table_args__ = (CheckConstraint("role IN ('clinician', 'admin')", name="role"),)


class PortalLink(Base):
    """A link a patient uses to fill questionnaires: only a hash of its token is kept; it expires and can be revoked."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    time_point: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    # The browser session that sent the first answer: from then on only that browser can fill the link.
    claimed_session_id: Mapped[int | None] = mapped_column(Integer)
    claimed_at: Mapped[dt.datetime | None]


class SafetyAlert(Base):
    """An answer that needs a clinician today (PHQ-9 item 9 above 0), open until a clinician acknowledges it."""

    __tablename__ = "safety_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_responses.id"))
    alert_id: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[dt.datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("response_id", "alert_id"),)


class WebSession(Base):
    """A signed-in browser (a user's or a portal link's): the cookie holds a random key, only its hash is kept.

    Ended at sign-out, password change, account disable, a finished portal link, or after inactivity."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    portal_link_id: Mapped[int | None] = mapped_column(ForeignKey("portal_links.id"), index=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (portal_link_id IS NULL)", name="one_identity"),)


class Setting(Base):
    """Facts about this installation, e.g. `purpose = demo` on the database `fbss serve --demo` made."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[str] = mapped_column(String(200))


# Rows of these tables are never updated or deleted (enforced by triggers created in the migrations).
APPEND_ONLY = ("case_versions", "assessments", "questionnaire_responses", "audit_log")
# Rows of these tables are never deleted.
NEVER_DELETED = ("patients",)
# Operational state, not records: neither backed up nor restored (a restored session could sign someone in again).
TRANSIENT = ("web_sessions",)
