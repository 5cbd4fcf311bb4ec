"""What the repository hands out: frozen values, never live ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fbss.case.model import Case
from fbss.case.parse import parse_case


@dataclass(frozen=True, slots=True)
class PatientRecord:
    id: int
    identifier: str
    display_name: str | None
    birth_year: int | None
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """A patient with how much is on file, for `fbss patient show`."""

    patient: PatientRecord
    case_versions: int
    latest_version_at: dt.datetime | None
    assessments: int
    responses: int


@dataclass(frozen=True, slots=True)
class CaseVersionRecord:
    id: int
    patient_identifier: str
    version: int
    data: dict[str, Any]
    note: str | None
    created_by: str
    created_at: dt.datetime

    def case(self) -> Case:
        """The snapshot as a validated Case."""
        return parse_case(self.data, origin=f"case version {self.version} of {self.patient_identifier}")


@dataclass(frozen=True, slots=True)
class AssessmentRecord:
    id: int
    patient_identifier: str
    case_version: int
    as_of: dt.date
    engine_version: str
    knowledge_version: str
    knowledge_fingerprint: str
    result: dict[str, Any]
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AssessmentStamp:
    """A stored assessment without its result document: which case version, as of when, by which engine and
    knowledge base (enough to recompute it, cheaper to read than the whole result)."""

    id: int
    patient_identifier: str
    case_version: int
    as_of: dt.date
    engine_version: str
    knowledge_version: str
    knowledge_fingerprint: str
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CaseWithAssessment:
    """One case version with its newest stored assessment (if any), read in one transaction."""

    patient: PatientRecord
    snapshot: CaseVersionRecord | None  # None: no case saved yet
    assessment: AssessmentStamp | None  # None: this version was never assessed


@dataclass(frozen=True, slots=True)
class LatestTriage:
    """For the patient list: the red-flag level and leading cause of a patient's newest stored assessment."""

    patient_identifier: str
    case_version: int
    level: str | None  # the most urgent fired red flag ("emergency", "same_day", "within_days"), None if none
    fired: int  # how many red flags fired
    leading_cause: str | None
    as_of: dt.date | None = None  # the date the assessment is as of
    ask_now: int = 0  # red flags waiting on an unknown answer


@dataclass(frozen=True, slots=True)
class NewResponse:
    """A questionnaire response ready to store: answers as given and the score already computed from them."""

    instrument_id: str
    answers: dict[str, Any]
    score: dict[str, Any]
    completed_at: dt.datetime
    time_point: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    id: int
    patient_identifier: str
    instrument_id: str
    time_point: str | None
    answers: dict[str, Any]
    score: dict[str, Any]
    completed_at: dt.datetime
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: dt.datetime
    who: str
    action: str
    entity: str
    entity_id: str | None
    patient_id: int | None
    hash: str
    detail: str | None = None
