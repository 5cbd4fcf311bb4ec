"""Patient-centred JSON export and import: one patient or all, without database ids, exact on a round trip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select

from fbss import __version__
from fbss.case.parse import describe_validation_error, parse_case
from fbss.store import audit
from fbss.store.audit import Action, Entity, Event
from fbss.store.database import Database
from fbss.store.errors import StoreError, UnknownPatientError
from fbss.store.models import Assessment, CaseVersion, Patient, QuestionnaireResponse
from fbss.store.outcomes import answers_problem
from fbss.store.repository import check_identifier, utc_now


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


class ExportedAssessment(_Strict):
    as_of: dt.date
    engine_version: str = Field(min_length=1, max_length=40)
    knowledge_version: str = Field(min_length=1, max_length=40)
    knowledge_fingerprint: str = Field(min_length=1, max_length=64)
    result: dict[str, Any]
    created_by: str = Field(min_length=1, max_length=100)
    created_at: AwareDatetime

    _at = field_validator("created_at")(_utc)


class ExportedCaseVersion(_Strict):
    version: int = Field(ge=1)
    case: dict[str, Any]
    note: str | None = None
    created_by: str = Field(min_length=1, max_length=100)
    created_at: AwareDatetime
    assessments: tuple[ExportedAssessment, ...] = ()

    _at = field_validator("created_at")(_utc)


class ExportedResponse(_Strict):
    instrument_id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    time_point: str | None = Field(default=None, min_length=1, max_length=64)
    answers: dict[str, Any]
    score: dict[str, Any]
    completed_at: AwareDatetime
    created_by: str = Field(min_length=1, max_length=100)
    created_at: AwareDatetime

    _at = field_validator("completed_at", "created_at")(_utc)


class ExportedPatient(_Strict):
    identifier: str
    display_name: str | None = Field(default=None, max_length=200)
    birth_year: int | None = Field(default=None, ge=1900, le=2200)
    created_by: str = Field(min_length=1, max_length=100)
    created_at: AwareDatetime
    case_versions: tuple[ExportedCaseVersion, ...] = ()
    questionnaire_responses: tuple[ExportedResponse, ...] = ()

    _at = field_validator("created_at")(_utc)

    @field_validator("case_versions")
    @classmethod
    def _numbered(cls, versions: tuple[ExportedCaseVersion, ...]) -> tuple[ExportedCaseVersion, ...]:
        numbers = [v.version for v in versions]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"versions must run 1, 2, 3, … without gaps; got {numbers}")
        return versions


class Export(_Strict):
    """The export file: `fbss patient export` writes it, `fbss patient import` reads it."""

    format: Literal["fbss-export"] = "fbss-export"
    format_version: Literal[1] = 1
    exported_at: AwareDatetime
    exported_by_version: str
    patients: tuple[ExportedPatient, ...]


def export_patients(db: Database, user: str, identifiers: Sequence[str] = ()) -> Export:
    """Everything on file for the given patients (none given: every patient), in one consistent read."""
    db.require_current_schema()
    with db.errors(), db.sessions() as session, session.begin():
        # Taking the audit lock first means nothing commits while we read, on PostgreSQL as on SQLite.
        if db.dialect == "postgresql":
            session.execute(audit.lock_statement(), {"key": audit.AUDIT_LOCK_KEY})
        if identifiers:
            patients = []
            for identifier in identifiers:
                row = session.scalar(select(Patient).where(Patient.identifier == check_identifier(identifier)))
                if row is None:
                    raise UnknownPatientError(f"no patient with identifier '{identifier}'; nothing was exported")
                patients.append(row)
        else:
            patients = list(session.scalars(select(Patient).order_by(Patient.identifier)))
        exported = []
        events = []
        for patient in patients:
            versions = []
            for version in session.scalars(
                select(CaseVersion).where(CaseVersion.patient_id == patient.id).order_by(CaseVersion.version)
            ):
                assessments = [
                    ExportedAssessment(
                        as_of=a.as_of,
                        engine_version=a.engine_version,
                        knowledge_version=a.knowledge_version,
                        knowledge_fingerprint=a.knowledge_fingerprint,
                        result=a.result,
                        created_by=a.created_by,
                        created_at=a.created_at,
                    )
                    for a in session.scalars(
                        select(Assessment).where(Assessment.case_version_id == version.id).order_by(Assessment.id)
                    )
                ]
                versions.append(
                    ExportedCaseVersion(
                        version=version.version,
                        case=version.case_json,
                        note=version.note,
                        created_by=version.created_by,
                        created_at=version.created_at,
                        assessments=tuple(assessments),
                    )
                )
            responses = [
                ExportedResponse(
                    instrument_id=r.instrument_id,
                    time_point=r.time_point,
                    answers=r.answers,
                    score=r.score,
                    completed_at=r.completed_at,
                    created_by=r.created_by,
                    created_at=r.created_at,
                )
                for r in session.scalars(
                    select(QuestionnaireResponse)
                    .where(QuestionnaireResponse.patient_id == patient.id)
                    .order_by(QuestionnaireResponse.completed_at, QuestionnaireResponse.id)
                )
            ]
            exported.append(
                ExportedPatient(
                    identifier=patient.identifier,
                    display_name=patient.display_name,
                    birth_year=patient.birth_year,
                    created_by=patient.created_by,
                    created_at=patient.created_at,
                    case_versions=tuple(versions),
                    questionnaire_responses=tuple(responses),
                )
            )
            events.append(Event(Action.export, Entity.patient, str(patient.id), patient.id))
        if not events:
            events.append(Event(Action.export, Entity.patient))
        audit.append(session, user, events, utc_now())
    return Export(exported_at=utc_now(), exported_by_version=__version__, patients=tuple(exported))


def parse_export(data: str | bytes | dict[str, Any], origin: str = "export") -> Export:
    """Validate an export document, including every case snapshot in it; raise StoreError or CaseError."""
    try:
        document = Export.model_validate(data) if isinstance(data, dict) else Export.model_validate_json(data)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise StoreError(f"{origin}: not valid JSON ({exc.errors()[0]['msg']})") from None
        raise StoreError(f"{origin}: {describe_validation_error(exc)}") from None
    seen: set[str] = set()
    for index, patient in enumerate(document.patients):
        where = f"{origin}: patients[{index}]"
        try:
            check_identifier(patient.identifier)
        except StoreError as exc:
            raise StoreError(f"{where}: {exc}") from None
        if patient.identifier in seen:
            raise StoreError(f"{where}: identifier '{patient.identifier}' appears twice")
        seen.add(patient.identifier)
        for version in patient.case_versions:
            parse_case(version.case, origin=f"{where}.case_versions[{version.version - 1}].case")
        for number, response in enumerate(patient.questionnaire_responses):
            problem = answers_problem(response.instrument_id, response.answers)
            if problem:
                raise StoreError(f"{where}.questionnaire_responses[{number}]: {problem}; nothing was imported")
    return document


def import_patients(db: Database, user: str, document: Export) -> list[str]:
    """Add every patient in the document with their whole history, all or nothing; refuse used identifiers."""
    db.require_current_schema()
    with db.errors(), db.sessions() as session, session.begin():
        identifiers = [p.identifier for p in document.patients]
        if identifiers:
            taken = sorted(session.scalars(select(Patient.identifier).where(Patient.identifier.in_(identifiers))))
            if taken:
                raise StoreError(f"identifier(s) already in this database: {', '.join(taken)}; nothing was imported")
        events: list[Event] = []
        for item in document.patients:
            patient = Patient(
                identifier=item.identifier,
                display_name=item.display_name,
                birth_year=item.birth_year,
                created_by=item.created_by,
                created_at=item.created_at,
            )
            session.add(patient)
            session.flush()
            events.append(Event(Action.import_, Entity.patient, str(patient.id), patient.id))
            for version in item.case_versions:
                snapshot = CaseVersion(
                    patient_id=patient.id,
                    version=version.version,
                    case_json=version.case,
                    note=version.note,
                    created_by=version.created_by,
                    created_at=version.created_at,
                )
                session.add(snapshot)
                session.flush()
                events.append(Event(Action.import_, Entity.case_version, str(snapshot.id), patient.id))
                for a in version.assessments:
                    assessment = Assessment(
                        case_version_id=snapshot.id,
                        as_of=a.as_of,
                        engine_version=a.engine_version,
                        knowledge_version=a.knowledge_version,
                        knowledge_fingerprint=a.knowledge_fingerprint,
                        result=a.result,
                        created_by=a.created_by,
                        created_at=a.created_at,
                    )
                    session.add(assessment)
                    session.flush()
                    events.append(Event(Action.import_, Entity.assessment, str(assessment.id), patient.id))
            for r in item.questionnaire_responses:
                response = QuestionnaireResponse(
                    patient_id=patient.id,
                    instrument_id=r.instrument_id,
                    time_point=r.time_point,
                    answers=r.answers,
                    score=r.score,
                    completed_at=r.completed_at,
                    created_by=r.created_by,
                    created_at=r.created_at,
                )
                session.add(response)
                session.flush()
                events.append(Event(Action.import_, Entity.questionnaire_response, str(response.id), patient.id))
        audit.append(session, user, events, utc_now())
    return identifiers
