"""The values an assessment returns; every item carries its basis (findings, rule ids, sources).

Result items are typed NamedTuples: immutable like frozen dataclasses, and several times cheaper to build, which
matters when a cohort run assesses hundreds of thousands of cases.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from fbss.case.model import Presence
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Category, Resuscitation, Urgency
from fbss.reasoning.findings import Observed


class Reason(NamedTuple):
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


class Question(NamedTuple):
    """A finding still unknown that is worth asking about now."""

    finding: str
    title: str
    question: str | None

    @property
    def text(self) -> str:
        return self.question or self.title


class OpenQuestion(NamedTuple):
    """A finding still unknown, and what its answer would do to a probability."""

    finding: str
    title: str
    question: str | None
    if_present: float
    if_absent: float


class CauseResult(NamedTuple):
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


class ExcludedCause(NamedTuple):
    cause: str
    title: str
    because: tuple[str, ...]  # findings (absent) that make the cause impossible here


class Trigger(NamedTuple):
    finding: str
    title: str
    observed: Observed
    source: str | None = None  # where the value was read, so it can be shown with its unit: a case path or 'lab:crp'


class RedFlagResult(NamedTuple):
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
    definitive: tuple[str, ...] = ()  # the treatment options that act on it (ids), listed right after the action
    within: str | None = None  # a fired flag whose action already includes this one's (covered_by): listed after it
    resuscitation: Resuscitation | None = None  # the resuscitation step its action starts with: listed first


class FlagAtStake(NamedTuple):
    flag: str
    title: str
    urgency: Urgency


class ScreenQuestion(NamedTuple):
    """One open question of the red-flag screen, and the flags a 'yes' could raise."""

    finding: str
    title: str
    question: str | None
    urgency: Urgency  # the most urgent flag it could raise
    flags: tuple[FlagAtStake, ...]
    screened: bool  # answered at once by recording the screen negative
    then_ask: tuple[Question, ...] = ()  # follow-ups, asked only if this is answered yes (their `ask_if`)

    @property
    def text(self) -> str:
        """The question, with its follow-ups."""
        own = self.question or self.title
        if not self.then_ask:
            return own
        return f"{own} If yes: " + " ".join(q.text for q in self.then_ask)


class Screen(NamedTuple):
    """The red-flag screen as one checklist: the questions still open, and the negative screen recorded, if any."""

    open: tuple[ScreenQuestion, ...] = ()
    negative: bool = False  # a negative screen counts for this visit
    recorded_by: str | None = None
    recorded_at: dt.datetime | None = None
    stale: bool = False  # a negative screen was recorded, but before this visit: it does not count


class Triage(NamedTuple):
    level: Urgency | None  # the most urgent fired flag, None when nothing fired
    fired: tuple[RedFlagResult, ...]
    ask_now: tuple[RedFlagResult, ...]
    screen: Screen = Screen()


class CoexistingCause(NamedTuple):
    """A cause other than the leading one whose own findings, unexplained by the leading cause, support it."""

    cause: str
    title: str
    likelihood_ratio: float  # combined, of the findings the leading cause does not explain
    because: tuple[Reason, ...]


class Calibration(NamedTuple):
    """How far the probabilities are calibrated, and the highest value shown as a point value."""

    statement: str
    shown_up_to: float
    evidence: Evidence
    sources: tuple[str, ...]


UNCALIBRATED_CEILING = 0.99  # the highest point value shown when no calibration statement is known


def shown_percent(p: float, ceiling: float = UNCALIBRATED_CEILING) -> str:
    """A probability as a reader sees it: a whole percentage, never a misleading 0 % or 100 %, and above `ceiling`
    (how far the numbers have been shown to be calibrated) only 'above' it."""
    if p * 100 < 1:
        return "<1 %"
    if p > ceiling:
        return f">{ceiling * 100:.0f} %"
    return f"{p * 100:.0f} %"


class Differential(NamedTuple):
    causes: tuple[CauseResult, ...]  # ranked, most probable first; the probabilities are main-cause shares
    excluded: tuple[ExcludedCause, ...]
    ask_next: tuple[Question, ...]  # the unknowns that would move the differential most
    unexplained: float = 0.0  # probability that the main cause is none of the listed causes
    coexisting: tuple[CoexistingCause, ...] = ()  # contributors beside the leading cause
    calibration: Calibration | None = None
    not_ranked: str | None = None  # why no cause is ranked (an operation outside the region the causes describe)

    @property
    def ceiling(self) -> float:
        """The highest probability shown as a point value."""
        return self.calibration.shown_up_to if self.calibration else UNCALIBRATED_CEILING

    def percent(self, p: float) -> str:
        """One of this differential's probabilities as a reader sees it (`shown_percent` under its ceiling)."""
        return shown_percent(p, self.ceiling)
