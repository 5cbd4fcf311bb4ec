"""The values the care planner returns: work-up, ratings, SCS advice, plan, each with its basis."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fbss.case.model import Presence
from fbss.knowledge.care_models import AdviceLevel, PanelCategory, TestKind
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Urgency


@dataclass(frozen=True, slots=True)
class Item:
    """A finding or concept named in an explanation: its id and title."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Basis:
    """One reason a rating moved: the rule, its effect, the items that decided it, and its evidence."""

    rule: str
    because: str
    effect: str  # e.g. "set 8", "+1", "cap 3"
    decided_by: tuple[Item, ...]
    evidence: Evidence
    sources: tuple[str, ...]
    pattern: bool = False  # reproduces a published panel pattern (its label; the number is ours)


@dataclass(frozen=True, slots=True)
class Pending:
    """A rule that would apply, or not, once the unknown items are settled: what is missing to decide."""

    rule: str
    because: str
    effect: str
    missing: tuple[Item, ...]


class Label(StrEnum):
    appropriate = "appropriate"
    uncertain = "uncertain"
    inappropriate = "inappropriate"


@dataclass(frozen=True, slots=True)
class Rating:
    """A RAND/UCLA-style score (1-9) for a panel category or a specific option, with its reasons."""

    id: str
    title: str
    category: PanelCategory
    score: int
    label: Label
    elective: bool
    published_pattern: bool  # True: the label reproduces a published panel pattern; the number is still ours
    score_basis: str  # how the number should be read, shown wherever the score is shown
    because: tuple[Basis, ...]
    pending: tuple[Pending, ...]


@dataclass(frozen=True, slots=True)
class OptionRatings:
    categories: tuple[Rating, ...]  # the four panel categories, in stepped-care order
    options: tuple[Rating, ...]  # every specific option, best first


@dataclass(frozen=True, slots=True)
class CauseShift:
    """How far a test could move one leading cause: now, if the result favours it, if it goes against it."""

    cause: str
    title: str
    now: float
    if_for: float
    if_against: float


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    evidence: Evidence
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TestSuggestion:
    """A test to do, why, and what its result could change."""

    test: str
    title: str
    kind: TestKind
    rank: int
    urgent: bool
    for_flags: tuple[str, ...]  # red flags that call for it (urgent tests)
    value: float  # expected change of the leading causes + weight x decision points it could settle
    burden: float
    score: float  # value per unit of burden
    why: str
    shifts: tuple[CauseShift, ...]
    settles: tuple[Item, ...]  # undecided decision points its result could settle
    separates: str
    accuracy: Statement | None
    cautions: tuple[Statement, ...]
    decision_point: str | None
    replaces: str | None  # the contraindicated test it stands in for


@dataclass(frozen=True, slots=True)
class SetAside:
    """A test not suggested now, and why (deferred, contraindicated, already known, would change nothing)."""

    test: str
    title: str
    reason: str
    kind: str  # "deferred", "contraindicated", "known", "no_change", "not_elective", "not_applicable"
    earliest_months: float | None
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecordedResult:
    """A test a fired red flag calls for whose result is already in the case: not ordered again, result shown."""

    test: str
    title: str
    for_flags: tuple[str, ...]
    result: str


@dataclass(frozen=True, slots=True)
class Workup:
    urgent: tuple[TestSuggestion, ...]  # called for by a fired red flag: no ranking, no timing rules
    ranked: tuple[TestSuggestion, ...]  # investigations to order, by value of information per unit of burden
    deferred: tuple[SetAside, ...]
    not_suggested: tuple[SetAside, ...]
    questions: tuple[TestSuggestion, ...] = ()  # history, examination and questionnaires, ranked the same way
    recorded: tuple[RecordedResult, ...] = ()  # urgent tests already done, with their result


@dataclass(frozen=True, slots=True)
class FactorState:
    factor: str
    title: str
    state: Presence
    evidence: Evidence
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NiceCheck:
    criterion: str
    title: str
    state: Presence
    how: str
    missing: str | None
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScsAdvice:
    """SCS candidacy: clinical rating, psychosocial factors, combined advice and the NICE check."""

    clinical: Rating
    factors: tuple[FactorState, ...]
    factors_present: int
    factors_unknown: int
    advice: AdviceLevel | None  # None when a contraindication stops the advice
    advice_if_unknowns_present: AdviceLevel | None  # the advice if every unknown factor turned out present
    advice_basis: Statement
    stopped_by: tuple[Basis, ...]
    to_check: tuple[Basis, ...]  # contraindications still unknown
    conditions: tuple[Basis, ...]  # restrict the system rather than stop the advice
    nice: tuple[NiceCheck, ...]
    nice_met: Presence
    missing: tuple[str, ...]  # what is missing to decide
    held_back: tuple[Basis, ...] = ()  # gates that do not hold (cap the advice) or are unknown (provisional)
    provisional_of: AdviceLevel | None = None  # the advice once every open item is assessed and holds


@dataclass(frozen=True, slots=True)
class PlanStep:
    order: int
    kind: str  # "red_flag", "definitive", "screen", "test", "treatment", "scs", "refer", "review"
    title: str
    detail: str
    decision_point: str | None
    urgency: Urgency | None
    sources: tuple[str, ...]
    ref: str | None = None  # the id of the red flag, test, option or cause the step is about, if one


@dataclass(frozen=True, slots=True)
class FollowUpItem:
    at: str
    what: str
    evidence: Evidence
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OutcomeItem:
    outcome: str
    title: str
    instrument: str
    change: str
    evidence: Evidence
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GridRow:
    """One option of the shared-decision grid, in plain words."""

    option: str
    title: str
    label: Label
    score: int
    score_basis: str
    involves: str
    benefit: str
    risks: str
    recovery: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DefinitiveCare:
    """The treatments listed right after a fired flag (its `definitive` options worth acting on; one that another
    listed treatment also performs is replaced by it: evacuating a compressive haematoma decompresses)."""

    flag: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[PlanStep, ...]
    follow_up: tuple[FollowUpItem, ...]
    outcomes: tuple[OutcomeItem, ...]
    grid: tuple[GridRow, ...]
    definitive: tuple[DefinitiveCare, ...] = ()
