"""The patient record service: one method is one user action, in one transaction, with its audit entries."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fbss.case.model import Case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import ENGINE_VERSION, assess
from fbss.reasoning.assess import Assessment as AssessmentResult
from fbss.reports.data import to_data
from fbss.store import audit, audit_trail
from fbss.store.audit import Action, Entity, Event
from fbss.store.database import Database
from fbss.store.errors import StaleVersionError, StoreError, UnknownPatientError
from fbss.store.models import (
    Assessment,
    AuditEntry,
    CaseVersion,
    Patient,
    QuestionnaireResponse,
    SafetyAlert,
)
from fbss.store.records import (
    AssessmentRecord,
    AssessmentStamp,
    AuditRecord,
    CaseVersionRecord,
    CaseWithAssessment,
    LatestTriage,
    NewResponse,
    PatientRecord,
    PatientSummary,
    ResponseRecord,
)

IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")  # always with fullmatch: no trailing newline
INSTRUMENT_ID = re.compile(r"[a-z0-9_]{1,64}")
MAX_NOTE = 2000
MAX_NAME = 200
# A completion time this far ahead of the clock is a typing mistake, not clock drift.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_identifier(identifier: str) -> str:
    """A patient identifier: 1-64 letters, digits and . _ : / -, starting with a letter or digit."""
    if not isinstance(identifier, str) or not IDENTIFIER.fullmatch(identifier):
        raise StoreError(
            f"patient identifier {identifier!r}: use 1 to 64 letters, digits and . _ : / -, "
            "starting with a letter or digit"
        )
    return identifier


@dataclass
class _Unit:
    """The transaction of one user action and the audit events it has gathered so far."""

    session: Session
    events: list[Event] = field(default_factory=list)

    def log(
        self,
        action: Action,
        entity: Entity,
        entity_id: int | str | None = None,
        patient_id: int | None = None,
    ) -> None:
        self.events.append(Event(action, entity, None if entity_id is None else str(entity_id), patient_id))


def _patient_record(row: Patient) -> PatientRecord:
    return PatientRecord(row.id, row.identifier, row.display_name, row.birth_year, row.created_by, row.created_at)


def _version_record(row: CaseVersion, identifier: str) -> CaseVersionRecord:
    return CaseVersionRecord(row.id, identifier, row.version, row.case_json, row.note, row.created_by, row.created_at)


def _assessment_record(row: Assessment, identifier: str, version: int) -> AssessmentRecord:
    return AssessmentRecord(
        row.id,
        identifier,
        version,
        row.as_of,
        row.engine_version,
        row.knowledge_version,
        row.knowledge_fingerprint,
        row.result,
        row.created_by,
        row.created_at,
    )


def _response_record(row: QuestionnaireResponse, identifier: str) -> ResponseRecord:
    return ResponseRecord(
        row.id,
        identifier,
        row.instrument_id,
        row.time_point,
        row.answers,
        row.score,
        row.completed_at,
        row.created_by,
        row.created_at,
    )


def _alert_ids(stored_score: dict[str, Any]) -> list[str]:
    """The safety alerts a stored score raised (PHQ-9 item 9 above 0), each opened for a clinician."""
    alerts = stored_score.get("alerts") or []
    return sorted({a["alert_id"] for a in alerts if isinstance(a, dict) and isinstance(a.get("alert_id"), str)})


@dataclass(frozen=True, slots=True)
class Reproduction:
    """Whether re-assessing a stored case snapshot today gives the stored result, and if not, why."""

    identical: bool
    comparable: bool
    reason: str


class Repository:
    """Everything a user can do with patient records, on behalf of one user (the audit log's "who")."""

    def __init__(self, db: Database, user: str, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.db = db
        self.user = user
        self._clock = clock

    def now(self) -> dt.datetime:
        """The repository's clock (UTC)."""
        return self._clock()

    # -- plumbing ------------------------------------------------------------------------------------------

    @contextmanager
    def _unit(self) -> Iterator[_Unit]:
        """One transaction: commit the work and its audit entries together, or neither. Audit entries of earlier
        reads that are still waiting (see `fbss.store.audit_trail`) are written first, in the same transaction."""
        trail = self.db.audit_trail
        carried: list[audit_trail.Entry] = []
        try:
            with self.db.errors(), self.db.sessions() as session, session.begin():
                unit = _Unit(session)
                yield unit
                if unit.events:
                    carried = trail.take_for(session)
                audit.append(session, self.user, unit.events, self._clock())
        except BaseException as exc:
            trail.returned(carried, exc)
            raise
        if carried:
            trail.written()

    @contextmanager
    def _read(self) -> Iterator[_Unit]:
        """A read-only transaction that never waits for the write lock; its audit entries are written afterwards,
        waiting a few seconds at most (else they wait in memory and the read still answers)."""
        self.db.audit_trail.check_capacity()
        with self.db.errors(), self.db.read_sessions() as session, session.begin():
            unit = _Unit(session)
            yield unit
        self.db.audit_trail.record(self.user, unit.events, self._clock())

    def _find_patient(self, unit: _Unit, identifier: str, *, lock: bool = False) -> Patient:
        query = select(Patient).where(Patient.identifier == check_identifier(identifier))
        if lock:
            query = query.with_for_update()  # serialises version numbering on PostgreSQL; SQLite locks the file
        patient = unit.session.scalar(query)
        if patient is None:
            raise UnknownPatientError(f"no patient with identifier '{identifier}'; see `fbss patient list`")
        return patient

    # -- patients ------------------------------------------------------------------------------------------

    def _checked_details(self, display_name: str | None, birth_year: int | None) -> str | None:
        """The name, trimmed; a name too long or a birth year outside 1900 to this year is refused."""
        if display_name is not None:
            display_name = display_name.strip() or None
            if display_name and len(display_name) > MAX_NAME:
                raise StoreError(f"name (--name): at most {MAX_NAME} characters")
        this_year = self._clock().year
        if birth_year is not None and not 1900 <= birth_year <= this_year:
            raise StoreError(
                f"year of birth (--birth-year): expected a year from 1900 to {this_year}, got {birth_year}"
            )
        return display_name

    def add_patient(
        self, identifier: str, *, display_name: str | None = None, birth_year: int | None = None
    ) -> PatientRecord:
        """Register a patient under the clinic's identifier; refuses an identifier already in use."""
        check_identifier(identifier)
        display_name = self._checked_details(display_name, birth_year)
        try:
            with self._unit() as unit:
                if unit.session.scalar(select(Patient.id).where(Patient.identifier == identifier)) is not None:
                    raise StoreError(f"a patient with identifier '{identifier}' already exists; nothing was added")
                row = Patient(
                    identifier=identifier,
                    display_name=display_name,
                    birth_year=birth_year,
                    created_by=self.user,
                    created_at=self._clock(),
                )
                unit.session.add(row)
                unit.session.flush()
                unit.log(Action.create, Entity.patient, row.id, row.id)
                return _patient_record(row)
        except IntegrityError:
            # Another user added the same identifier between our check and our insert.
            raise StoreError(f"a patient with identifier '{identifier}' already exists; nothing was added") from None

    def update_patient(self, identifier: str, *, display_name: str | None, birth_year: int | None) -> PatientRecord:
        """Correct a patient's name and year of birth (the record number stays); audited as an update."""
        display_name = self._checked_details(display_name, birth_year)
        with self._unit() as unit:
            row = self._find_patient(unit, identifier, lock=True)
            row.display_name, row.birth_year = display_name, birth_year
            unit.log(Action.update, Entity.patient, row.id, row.id)
            return _patient_record(row)

    def identifier_of(self, patient_id: int) -> str:
        """The identifier of a patient known by database id (web addresses carry ids, not record numbers)."""
        with self.db.errors(), self.db.read_sessions() as session:
            identifier = session.scalar(select(Patient.identifier).where(Patient.id == patient_id))
        if identifier is None:
            raise UnknownPatientError(f"no patient with id {patient_id}")
        return identifier

    def list_patients(self) -> list[PatientRecord]:
        with self._read() as unit:
            rows = unit.session.scalars(select(Patient).order_by(Patient.identifier)).all()
            unit.log(Action.list_, Entity.patient)
            return [_patient_record(row) for row in rows]

    def patient(self, identifier: str) -> PatientSummary:
        """One patient and how much is on file."""
        with self._read() as unit:
            row = self._find_patient(unit, identifier)
            versions = unit.session.execute(
                select(func.count(), func.max(CaseVersion.created_at)).where(CaseVersion.patient_id == row.id)
            ).one()
            assessments = unit.session.scalar(
                select(func.count())
                .select_from(Assessment)
                .join(CaseVersion, Assessment.case_version_id == CaseVersion.id)
                .where(CaseVersion.patient_id == row.id)
            )
            responses = unit.session.scalar(
                select(func.count())
                .select_from(QuestionnaireResponse)
                .where(QuestionnaireResponse.patient_id == row.id)
            )
            unit.log(Action.read, Entity.patient, row.id, row.id)
            return PatientSummary(_patient_record(row), versions[0], versions[1], assessments or 0, responses or 0)

    # -- case versions -------------------------------------------------------------------------------------

    def save_case(
        self, identifier: str, case: Case, *, note: str | None = None, expected_version: int | None = None
    ) -> CaseVersionRecord:
        """Store the case as the patient's next version; earlier versions stay as they were.

        With `expected_version` (the version an edit started from; 0 for none), a newer version saved meanwhile
        refuses the save (StaleVersionError) instead of silently undoing it."""
        if note is not None:
            note = note.strip() or None
            if note and len(note) > MAX_NOTE:
                raise StoreError(f"--note: at most {MAX_NOTE} characters")
        data = case.model_dump(mode="json")
        with self._unit() as unit:
            patient = self._find_patient(unit, identifier, lock=True)
            latest = unit.session.scalar(
                select(func.max(CaseVersion.version)).where(CaseVersion.patient_id == patient.id)
            )
            if expected_version is not None and (latest or 0) != expected_version:
                raise StaleVersionError(
                    f"version {latest} of the case was saved after version {expected_version}, which this edit "
                    "started from"
                )
            row = CaseVersion(
                patient_id=patient.id,
                version=(latest or 0) + 1,
                case_json=data,
                note=note,
                created_by=self.user,
                created_at=self._clock(),
            )
            unit.session.add(row)
            unit.session.flush()
            unit.log(Action.create, Entity.case_version, row.id, patient.id)
            return _version_record(row, patient.identifier)

    def case_history(self, identifier: str) -> list[CaseVersionRecord]:
        """Every version of the patient's case, oldest first."""
        with self._read() as unit:
            patient = self._find_patient(unit, identifier)
            rows = unit.session.scalars(
                select(CaseVersion).where(CaseVersion.patient_id == patient.id).order_by(CaseVersion.version)
            ).all()
            for row in rows:
                unit.log(Action.read, Entity.case_version, row.id, patient.id)
            if not rows:
                unit.log(Action.read, Entity.patient, patient.id, patient.id)
            return [_version_record(row, patient.identifier) for row in rows]

    def case_version(self, identifier: str, version: int | None = None) -> CaseVersionRecord:
        """One version (default: the latest)."""
        with self._read() as unit:
            patient = self._find_patient(unit, identifier)
            row = self._version_row(unit, patient, version)
            unit.log(Action.read, Entity.case_version, row.id, patient.id)
            return _version_record(row, patient.identifier)

    def _version_row(self, unit: _Unit, patient: Patient, version: int | None) -> CaseVersion:
        query = select(CaseVersion).where(CaseVersion.patient_id == patient.id)
        if version is None:
            query = query.order_by(CaseVersion.version.desc()).limit(1)
        else:
            query = query.where(CaseVersion.version == version)
        row = unit.session.scalar(query)
        if row is None:
            if version is None:
                raise StoreError(f"patient '{patient.identifier}' has no saved case; use `fbss case save`")
            raise StoreError(f"patient '{patient.identifier}' has no case version {version}; see `fbss case history`")
        return row

    # -- assessments ---------------------------------------------------------------------------------------

    def assess_case(
        self, identifier: str, kb: KnowledgeBase, *, version: int | None = None, as_of: dt.date | None = None
    ) -> tuple[AssessmentRecord, AssessmentResult]:
        """Assess a stored case version (default: the latest) and store the result with what produced it.

        A case without an assessment date is assessed as of `as_of` (default: today), and that date is stored.
        Returns the stored record and the live assessment (for renderers).
        """
        with self._unit() as unit:
            patient = self._find_patient(unit, identifier)
            snapshot = self._version_row(unit, patient, version)
            record = _version_record(snapshot, patient.identifier)
            case = record.case()
            date = case.assessment_date or as_of or self._clock().date()
            assessment = assess(case.model_copy(update={"assessment_date": date}), kb)
            row = Assessment(
                case_version_id=snapshot.id,
                as_of=date,
                engine_version=assessment.engine_version,
                knowledge_version=assessment.knowledge_version,
                knowledge_fingerprint=assessment.knowledge_fingerprint,
                result=to_data(assessment, kb),
                created_by=self.user,
                created_at=self._clock(),
            )
            unit.session.add(row)
            unit.session.flush()
            unit.log(Action.read, Entity.case_version, snapshot.id, patient.id)
            unit.log(Action.create, Entity.assessment, row.id, patient.id)
            return _assessment_record(row, patient.identifier, snapshot.version), assessment

    def assessments(self, identifier: str) -> list[AssessmentRecord]:
        """Every stored assessment of the patient's case versions, oldest first."""
        with self._read() as unit:
            patient = self._find_patient(unit, identifier)
            rows = unit.session.execute(
                select(Assessment, CaseVersion.version)
                .join(CaseVersion, Assessment.case_version_id == CaseVersion.id)
                .where(CaseVersion.patient_id == patient.id)
                .order_by(Assessment.id)
            ).all()
            for row, _version in rows:
                unit.log(Action.read, Entity.assessment, row.id, patient.id)
            if not rows:
                unit.log(Action.read, Entity.patient, patient.id, patient.id)
            return [_assessment_record(row, patient.identifier, version) for row, version in rows]

    def latest_assessment(self, identifier: str, version: int | None = None) -> AssessmentRecord | None:
        """The newest stored assessment of one case version (default: the latest version), or None."""
        with self._read() as unit:
            patient = self._find_patient(unit, identifier)
            snapshot = self._version_row(unit, patient, version)
            row = unit.session.scalar(
                select(Assessment)
                .where(Assessment.case_version_id == snapshot.id)
                .order_by(Assessment.id.desc())
                .limit(1)
            )
            if row is None:
                unit.log(Action.read, Entity.case_version, snapshot.id, patient.id)
                return None
            unit.log(Action.read, Entity.assessment, row.id, patient.id)
            return _assessment_record(row, patient.identifier, snapshot.version)

    def case_with_assessment(self, identifier: str, version: int | None = None) -> CaseWithAssessment:
        """A case version (default: the newest) and the stamp of its newest stored assessment, in one transaction
        and without reading the stored result: what a page that recomputes the assessment needs."""
        with self._read() as unit:
            patient = self._find_patient(unit, identifier)
            unit.log(Action.read, Entity.patient, patient.id, patient.id)
            if (
                version is None
                and unit.session.scalar(select(CaseVersion.id).where(CaseVersion.patient_id == patient.id).limit(1))
                is None
            ):
                return CaseWithAssessment(_patient_record(patient), None, None)
            snapshot = self._version_row(unit, patient, version)
            unit.log(Action.read, Entity.case_version, snapshot.id, patient.id)
            row = unit.session.execute(
                select(
                    Assessment.id,
                    Assessment.as_of,
                    Assessment.engine_version,
                    Assessment.knowledge_version,
                    Assessment.knowledge_fingerprint,
                    Assessment.created_by,
                    Assessment.created_at,
                )
                .where(Assessment.case_version_id == snapshot.id)
                .order_by(Assessment.id.desc())
                .limit(1)
            ).first()
            stamp = None
            if row is not None:
                unit.log(Action.read, Entity.assessment, row.id, patient.id)
                stamp = AssessmentStamp(
                    row.id,
                    patient.identifier,
                    snapshot.version,
                    row.as_of,
                    row.engine_version,
                    row.knowledge_version,
                    row.knowledge_fingerprint,
                    row.created_by,
                    row.created_at,
                )
            return CaseWithAssessment(_patient_record(patient), _version_record(snapshot, patient.identifier), stamp)

    def latest_triage(self) -> dict[str, LatestTriage]:
        """Every patient's newest stored assessment of their newest case version, reduced to what the patient
        list shows; only the few fields are read from each stored result, never the whole document."""
        level = Assessment.result[("triage", "level")].as_string()
        fired = func.json_array_length(Assessment.result[("triage", "fired")])
        ask_now = func.json_array_length(Assessment.result[("triage", "ask_now")])
        if self.db.dialect == "postgresql":
            fired = func.jsonb_array_length(Assessment.result[("triage", "fired")])
            ask_now = func.jsonb_array_length(Assessment.result[("triage", "ask_now")])
        leading = Assessment.result[("differential", "causes", 0, "title")].as_string()
        with self._read() as unit:
            newest_version = (
                select(CaseVersion.patient_id, func.max(CaseVersion.version).label("version"))
                .group_by(CaseVersion.patient_id)
                .subquery()
            )
            rows = unit.session.execute(
                select(
                    Patient.identifier,
                    CaseVersion.version,
                    Assessment.id,
                    level,
                    fired,
                    leading,
                    Assessment.as_of,
                    ask_now,
                )
                .join(CaseVersion, Assessment.case_version_id == CaseVersion.id)
                .join(Patient, Patient.id == CaseVersion.patient_id)
                .join(
                    newest_version,
                    (newest_version.c.patient_id == CaseVersion.patient_id)
                    & (newest_version.c.version == CaseVersion.version),
                )
                .order_by(Assessment.id)
            ).all()
            unit.log(Action.list_, Entity.assessment)
        found: dict[str, LatestTriage] = {}
        for identifier, version, _id, flag_level, count, cause, as_of, asks in rows:  # oldest first: newest wins
            found[identifier] = LatestTriage(
                identifier, version, flag_level, int(count or 0), cause, as_of, int(asks or 0)
            )
        return found

    def export_assessment(self, identifier: str, assessment_id: int) -> AssessmentRecord:
        """A stored assessment, read to leave the system as a report (audited as an export)."""
        with self._unit() as unit:
            patient = self._find_patient(unit, identifier)
            found = unit.session.execute(
                select(Assessment, CaseVersion.version)
                .join(CaseVersion, Assessment.case_version_id == CaseVersion.id)
                .where(Assessment.id == assessment_id, CaseVersion.patient_id == patient.id)
            ).first()
            if found is None:
                raise StoreError(f"patient '{identifier}' has no assessment {assessment_id}")
            row, version = found
            unit.log(Action.export, Entity.assessment, row.id, patient.id)
            return _assessment_record(row, patient.identifier, version)

    def reproduce(self, assessment_id: int, kb: KnowledgeBase) -> Reproduction:
        """Re-assess the stored snapshot behind an assessment and compare with what was stored."""
        with self._read() as unit:
            row = unit.session.get(Assessment, assessment_id)
            if row is None:
                raise StoreError(f"no assessment with id {assessment_id}")
            snapshot = unit.session.get_one(CaseVersion, row.case_version_id)
            patient = unit.session.get_one(Patient, snapshot.patient_id)
            unit.log(Action.read, Entity.assessment, row.id, patient.id)
            unit.log(Action.read, Entity.case_version, snapshot.id, patient.id)
            stored = _assessment_record(row, patient.identifier, snapshot.version)
            case = _version_record(snapshot, patient.identifier).case()
        if stored.engine_version != ENGINE_VERSION or stored.knowledge_fingerprint != kb.fingerprint:
            return Reproduction(
                identical=False,
                comparable=False,
                reason=(
                    f"stored with engine {stored.engine_version}, knowledge {stored.knowledge_fingerprint}; "
                    f"now engine {ENGINE_VERSION} and knowledge {kb.fingerprint}"
                ),
            )
        again = to_data(assess(case.model_copy(update={"assessment_date": stored.as_of}), kb), kb)
        if again == stored.result:
            return Reproduction(identical=True, comparable=True, reason="identical")
        return Reproduction(identical=False, comparable=True, reason="same engine and knowledge, different result")

    # -- questionnaire responses ---------------------------------------------------------------------------

    def add_response(self, identifier: str, response: NewResponse) -> ResponseRecord:
        """Store a scored questionnaire response."""
        self._check_response(response)
        with self._unit() as unit:
            patient = self._find_patient(unit, identifier)
            return self._insert_response(unit, patient, response)

    def _check_response(self, response: NewResponse) -> None:
        if not INSTRUMENT_ID.fullmatch(response.instrument_id):
            raise StoreError(f"instrument id {response.instrument_id!r}: lower-case letters, digits and _ only")
        if response.completed_at.tzinfo is None:
            raise StoreError("completed_at: give a time with a time zone")
        if response.completed_at > self._clock() + FUTURE_TOLERANCE:
            raise StoreError(f"completed_at: {response.completed_at.isoformat()} is in the future")
        if response.time_point is not None and not 1 <= len(response.time_point) <= 64:
            raise StoreError("--time-point: 1 to 64 characters")

    def _insert_response(self, unit: _Unit, patient: Patient, response: NewResponse) -> ResponseRecord:
        """The response row and the safety alerts its score raised, in the caller's transaction."""
        row = QuestionnaireResponse(
            patient_id=patient.id,
            instrument_id=response.instrument_id,
            time_point=response.time_point,
            answers=response.answers,
            score=response.score,
            completed_at=response.completed_at,
            created_by=self.user,
            created_at=self._clock(),
        )
        unit.session.add(row)
        unit.session.flush()
        unit.log(Action.create, Entity.questionnaire_response, row.id, patient.id)
        for alert_id in _alert_ids(response.score):
            alert = SafetyAlert(
                patient_id=patient.id, response_id=row.id, alert_id=alert_id, raised_at=row.completed_at
            )
            unit.session.add(alert)
            unit.session.flush()
            unit.log(Action.create, Entity.safety_alert, alert.id, patient.id)
        return _response_record(row, patient.identifier)

    def responses(self, identifier: str, instrument_id: str | None = None) -> list[ResponseRecord]:
        """The patient's questionnaire responses in order of completion (optionally one instrument's only)."""
        with self._read() as unit:
            patient = self._find_patient(unit, identifier)
            query = select(QuestionnaireResponse).where(QuestionnaireResponse.patient_id == patient.id)
            if instrument_id is not None:
                query = query.where(QuestionnaireResponse.instrument_id == instrument_id)
            rows = unit.session.scalars(
                query.order_by(QuestionnaireResponse.completed_at, QuestionnaireResponse.id)
            ).all()
            for row in rows:
                unit.log(Action.read, Entity.questionnaire_response, row.id, patient.id)
            if not rows:
                unit.log(Action.read, Entity.patient, patient.id, patient.id)
            return [_response_record(row, patient.identifier) for row in rows]

    # -- the audit log -------------------------------------------------------------------------------------

    def audit_entries(self, identifier: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """Latest audit entries (optionally about one patient), oldest first; reading them is logged too."""
        with self._read() as unit:
            query = select(AuditEntry)
            patient_id = None
            if identifier is not None:
                patient_id = self._find_patient(unit, identifier).id
                query = query.where(AuditEntry.patient_id == patient_id)
            rows = unit.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
            unit.log(Action.read, Entity.audit_log, None, patient_id)
            return [
                AuditRecord(r.id, r.at, r.who, r.action, r.entity, r.entity_id, r.patient_id, r.hash, r.detail)
                for r in reversed(rows)
            ]

    def verify_audit(self) -> audit.ChainCheck:
        """Recompute the audit log's hash chain."""
        with self._read() as unit:
            check = audit.verify(unit.session)
            unit.log(Action.read, Entity.audit_log)
            return check
