"""The values an assessment returns; every item carries its basis (findings, rule ids, sources)."""

from __future__ import annotations

from dataclasses import dataclass

from fbss.case.model import Presence
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Category, Urgency
from fbss.reasoning.findings import Observed


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding that moved a result, by how much, and on what evidence."""

    finding: str
    title: str
    state: Presence
    observed: Observed
    likelihood_ratio: float
    weight: float  # natural log of the likelihood ratio applied
    evidence: Evidence
    sources: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """A finding still unknown that is worth asking about now."""

    finding: str
    title: str
    question: str | None


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    """A finding still unknown, and what its answer would do to a probability."""

    finding: str
    title: str
    question: str | None
    if_present: float
    if_absent: float


@dataclass(frozen=True, slots=True)
class CauseResult:
    cause: str
    title: str
    category: Category
    rank: int
    probability: float
    low: float  # the probability if every unknown linked finding went against the cause
    high: float  # ... and if every one went for it
    prior: float
    prior_evidence: Evidence
    prior_sources: tuple[str, ...]
    raised_by: tuple[Reason, ...]
    lowered_by: tuple[Reason, ...]
    open_questions: tuple[OpenQuestion, ...]


@dataclass(frozen=True, slots=True)
class ExcludedCause:
    cause: str
    title: str
    because: tuple[str, ...]  # findings (absent) that make the cause impossible here


@dataclass(frozen=True, slots=True)
class Trigger:
    finding: str
    title: str
    observed: Observed


@dataclass(frozen=True, slots=True)
class RedFlagResult:
    """A red flag that fired, or one to ask about now because its deciding items are unknown."""

    flag: str
    title: str
    urgency: Urgency
    status: str  # "fired" or "ask_now"
    action: str
    patient_advice: str
    fired_by: tuple[Trigger, ...]
    ask_about: tuple[Question, ...]
    evidence: Evidence
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Triage:
    level: Urgency | None  # the most urgent fired flag, None when nothing fired
    fired: tuple[RedFlagResult, ...]
    ask_now: tuple[RedFlagResult, ...]


@dataclass(frozen=True, slots=True)
class Differential:
    causes: tuple[CauseResult, ...]  # ranked, most probable first
    excluded: tuple[ExcludedCause, ...]
    ask_next: tuple[Question, ...]  # the unknowns that would move the differential most
