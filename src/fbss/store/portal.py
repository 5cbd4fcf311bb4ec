"""Patient portal links (a random token, only its hash stored; expiring, single-use, revocable) and the safety
alerts that questionnaire answers raise for clinicians."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from fbss.store.audit import Action, Entity
from fbss.store.errors import StoreError
from fbss.store.models import Patient, PortalLink, QuestionnaireResponse, SafetyAlert
from fbss.store.records import NewResponse, ResponseRecord
from fbss.store.repository import Repository
from fbss.store.web_sessions import end_sessions


class LinkClosedError(StoreError):
    """The link expired, was finished or withdrawn while the patient was filling it."""


class LinkElsewhereError(StoreError):
    """Another browser sent the first answers to this link: only that browser may go on."""


class AlreadyAnsweredError(StoreError):
    """This questionnaire was already sent through this link (a second click, a second tab)."""


@dataclass(frozen=True, slots=True)
class Submitted:
    response: ResponseRecord
    finished: bool  # every questionnaire of the link is now answered: the link is used and its sessions ended


TOKEN_BYTES = 32
DEFAULT_VALIDITY = dt.timedelta(days=14)
MAX_VALIDITY = dt.timedelta(days=90)


def token_hash(token: str) -> str:
    """SHA-256 of the token: the token has 256 random bits, so a fast hash is enough to make a leak useless."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_author(link_id: int) -> str:
    """Who a response filled through a portal link was created by, in the record and the audit log."""
    return f"portal-link:{link_id}"


@dataclass(frozen=True, slots=True)
class PortalLinkRecord:
    id: int
    patient_id: int
    patient_identifier: str
    time_point: str | None
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    claimed_session_id: int | None = None

    def state(self, now: dt.datetime) -> str:
        """active, used, revoked or expired."""
        if self.revoked_at is not None:
            return "revoked"
        if self.used_at is not None:
            return "used"
        if now >= self.expires_at:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: int
    patient_identifier: str
    patient_name: str | None
    response_id: int
    instrument_id: str
    alert_id: str
    raised_at: dt.datetime
    clinician_message: str
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None


def _link_record(row: PortalLink, identifier: str) -> PortalLinkRecord:
    return PortalLinkRecord(
        row.id,
        row.patient_id,
        identifier,
        row.time_point,
        row.created_by,
        row.created_at,
        row.expires_at,
        row.used_at,
        row.revoked_at,
        row.claimed_session_id,
    )


class Portal(Repository):
    """Portal links and safety alerts, on behalf of a clinician or of a portal link (`portal-link:<id>`)."""

    def create_link(
        self, identifier: str, *, time_point: str | None = None, valid_for: dt.timedelta = DEFAULT_VALIDITY
    ) -> tuple[str, PortalLinkRecord]:
        """A new link for the patient; returns the token (shown once, never stored) and the record."""
        if not dt.timedelta(minutes=1) <= valid_for <= MAX_VALIDITY:
            raise StoreError(f"valid for: from 1 minute to {MAX_VALIDITY.days} days")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._unit() as unit:
            patient = self._find_patient(unit, identifier)
            now = self.now()
            row = PortalLink(
                patient_id=patient.id,
                token_hash=token_hash(token),
                time_point=time_point,
                created_by=self.user,
                created_at=now,
                expires_at=now + valid_for,
                used_at=None,
                revoked_at=None,
                revoked_by=None,
            )
            unit.session.add(row)
            unit.session.flush()
            unit.log(Action.create, Entity.portal_link, row.id, patient.id)
            return token, _link_record(row, patient.identifier)

    def links(self, identifier: str) -> list[PortalLinkRecord]:
        with self._read() as unit:
            patient = self._find_patient(unit, identifier)
            rows = unit.session.scalars(
                select(PortalLink).where(PortalLink.patient_id == patient.id).order_by(PortalLink.id.desc())
            ).all()
            unit.log(Action.list_, Entity.portal_link, None, patient.id)
            return [_link_record(r, patient.identifier) for r in rows]

    def revoke_link(self, identifier: str, link_id: int) -> PortalLinkRecord:
        with self._unit() as unit:
            patient = self._find_patient(unit, identifier)
            row = unit.session.get(PortalLink, link_id)
            if row is None or row.patient_id != patient.id:
                raise StoreError(f"patient '{identifier}' has no portal link {link_id}")
            if row.revoked_at is None:
                row.revoked_at, row.revoked_by = self.now(), self.user
                end_sessions(unit.session, self.now(), "revoked", portal_link_id=row.id)
                unit.log(Action.update, Entity.portal_link, row.id, patient.id)
            return _link_record(row, patient.identifier)

    def submit(self, link_id: int, session_id: int, response: NewResponse, wanted: tuple[str, ...]) -> Submitted:
        """Store one questionnaire sent through a link, all in one transaction under the link's lock:

        the first answer claims the link for the browser session that sent it (a link preview or a second
        browser that only opened it claims nothing); a second browser, a second send of the same questionnaire, or
        a link closed meanwhile are refused; the last questionnaire finishes the link and ends its sessions."""
        self._check_response(response)
        with self._unit() as unit:
            query = select(PortalLink).where(PortalLink.id == link_id)
            row = unit.session.scalar(query.with_for_update())  # PostgreSQL: one submit per link at a time
            if row is None or _link_record(row, "").state(self.now()) != "active":
                raise LinkClosedError("this questionnaire link has expired, was used or was withdrawn")
            if row.claimed_session_id is None:
                row.claimed_session_id, row.claimed_at = session_id, self.now()
                unit.log(Action.update, Entity.portal_link, row.id, row.patient_id)
            elif row.claimed_session_id != session_id:
                raise LinkElsewhereError("this link is being filled in another browser")
            done = set(
                unit.session.scalars(
                    select(QuestionnaireResponse.instrument_id).where(
                        QuestionnaireResponse.created_by == link_author(link_id)
                    )
                )
            )
            if response.instrument_id in done:
                raise AlreadyAnsweredError(f"{response.instrument_id} was already sent through this link")
            patient = unit.session.get_one(Patient, row.patient_id)
            record = self._insert_response(unit, patient, response)
            finished = all(i in done | {response.instrument_id} for i in wanted)
            if finished:
                row.used_at = self.now()
                end_sessions(unit.session, self.now(), "finished", portal_link_id=row.id)
                unit.log(Action.update, Entity.portal_link, row.id, row.patient_id)
            return Submitted(record, finished)

    def resolve(self, token: str) -> PortalLinkRecord | None:
        """The link a token opens, if it is active; no audit entry for an unknown token (nothing was read)."""
        if not token or len(token) > 100:
            return None
        with self._unit() as unit:
            found = unit.session.execute(
                select(PortalLink, Patient.identifier)
                .join(Patient, Patient.id == PortalLink.patient_id)
                .where(PortalLink.token_hash == token_hash(token))
            ).first()
            if found is None:
                return None
            row, identifier = found
            record = _link_record(row, identifier)
            if record.state(self.now()) != "active":
                return None
            unit.log(Action.read, Entity.portal_link, row.id, row.patient_id)
            return record

    def link(self, link_id: int) -> PortalLinkRecord | None:
        """An active link by id (for a portal session that already opened it)."""
        with self.db.errors(), self.db.read_sessions() as session:
            found = session.execute(
                select(PortalLink, Patient.identifier)
                .join(Patient, Patient.id == PortalLink.patient_id)
                .where(PortalLink.id == link_id)
            ).first()
            if found is None:
                return None
            record = _link_record(found[0], found[1])
            return record if record.state(self.now()) == "active" else None

    def use_link(self, link_id: int) -> None:
        """Mark the link used: the patient finished; the link opens nothing any more and its sessions end."""
        with self._unit() as unit:
            row = unit.session.get(PortalLink, link_id)
            if row is None:
                raise StoreError(f"no portal link {link_id}")
            if row.used_at is None:
                row.used_at = self.now()
                end_sessions(unit.session, self.now(), "finished", portal_link_id=row.id)
                unit.log(Action.update, Entity.portal_link, row.id, row.patient_id)

    def completed_with_link(self, link_id: int) -> set[str]:
        """The instruments already answered through this link (their responses name the link as author)."""
        with self.db.errors(), self.db.read_sessions() as session:
            rows = session.scalars(
                select(QuestionnaireResponse.instrument_id).where(
                    QuestionnaireResponse.created_by == link_author(link_id)
                )
            ).all()
            return set(rows)

    # -- safety alerts -------------------------------------------------------------------------------------

    def alerts(self, *, open_only: bool = True, identifier: str | None = None) -> list[AlertRecord]:
        """Safety alerts, newest first: open ones by default (what the clinician's list shows at the top)."""
        with self._read() as unit:
            query = (
                select(SafetyAlert, Patient.identifier, Patient.display_name, QuestionnaireResponse)
                .join(Patient, Patient.id == SafetyAlert.patient_id)
                .join(QuestionnaireResponse, QuestionnaireResponse.id == SafetyAlert.response_id)
            )
            patient_id = None
            if identifier is not None:
                patient_id = self._find_patient(unit, identifier).id
                query = query.where(SafetyAlert.patient_id == patient_id)
            if open_only:
                query = query.where(SafetyAlert.acknowledged_at.is_(None))
            rows = unit.session.execute(query.order_by(SafetyAlert.raised_at.desc(), SafetyAlert.id.desc())).all()
            result = []
            for alert, patient_identifier, name, response in rows:
                message = next(
                    (
                        a.get("clinician_message", "")
                        for a in response.score.get("alerts") or []
                        if isinstance(a, dict) and a.get("alert_id") == alert.alert_id
                    ),
                    "",
                )
                result.append(
                    AlertRecord(
                        alert.id,
                        patient_identifier,
                        name,
                        response.id,
                        response.instrument_id,
                        alert.alert_id,
                        alert.raised_at,
                        message,
                        alert.acknowledged_by,
                        alert.acknowledged_at,
                    )
                )
                unit.log(Action.read, Entity.safety_alert, alert.id, alert.patient_id)
            if not rows:
                unit.log(Action.list_, Entity.safety_alert, None, patient_id)
            return result

    def acknowledge(self, alert_id: int) -> None:
        """A clinician has seen the alert and taken it on; it leaves the open list."""
        with self._unit() as unit:
            row = unit.session.get(SafetyAlert, alert_id)
            if row is None:
                raise StoreError(f"no safety alert {alert_id}")
            if row.acknowledged_at is None:
                row.acknowledged_at, row.acknowledged_by = self.now(), self.user
                unit.log(Action.update, Entity.safety_alert, row.id, row.patient_id)
