"""The decision summary: what a clinician needs on one screen before any detail, as a point-of-care reference opens.

Act now (the red flags that fired, and the red-flag questions still open as one checklist), the most likely causes
with their two strongest reasons, the next test, and the options to discuss. It selects from the assessment and
formats; it recomputes nothing. The assessment page, the clinician report's first page and the CDS Hooks
differential card all show this one summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from fbss.knowledge.care_models import AdviceLevel
from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment
from fbss.reasoning.care_results import Label, Rating
from fbss.reasoning.results import UNCALIBRATED_CEILING, CauseResult, Reason, shown_percent
from fbss.reports.care_wording import missing
from fbss.reports.wording import finding_phrase, trigger_phrase

SHOWN_CAUSES = 3
REASONS_PER_CAUSE = 2
SHOWN_OPTIONS = 3
THEN_TESTS = 2
WHY_LENGTH = 140


@dataclass(frozen=True, slots=True)
class FlagLine:
    """A red flag that fired: what to do, and the findings that fired it."""

    flag: str
    title: str
    urgency: Urgency
    action: str
    fired_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CauseLine:
    cause: str
    title: str
    probability: float
    low: float
    high: float
    reasons: tuple[str, ...]  # the strongest findings for it, each with its likelihood ratio
    ceiling: float = UNCALIBRATED_CEILING  # the highest point value the differential's calibration supports

    @property
    def percent(self) -> str:
        return shown_percent(self.probability, self.ceiling)

    @property
    def range_text(self) -> str:
        return f"{shown_percent(self.low, self.ceiling)}–{shown_percent(self.high, self.ceiling)}"


@dataclass(frozen=True, slots=True)
class TestLine:
    test: str
    title: str
    why: str
    urgent: bool

    @property
    def short_why(self) -> str:
        """The first reason only when the whole is long ('could settle: A; B; C' -> 'could settle: A …')."""
        if len(self.why) <= WHY_LENGTH or "; " not in self.why:
            return self.why
        first, rest = self.why.split("; ", 1)
        return f"{first} (and {rest.count('; ') + 1} more)"


@dataclass(frozen=True, slots=True)
class OptionLine:
    option: str
    title: str
    label: Label
    score: int
    because: str | None  # the most decisive reason for the rating
    missing: str  # what is missing to decide it, if anything

    @property
    def rating_text(self) -> str:
        return f"{self.label.value} {self.score}/9"


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    act_now: tuple[FlagLine, ...]
    screen: tuple[str, ...]  # the red-flag screen's open questions (follow-ups folded in): a checklist, not a flag
    causes: tuple[CauseLine, ...]
    next_tests: tuple[TestLine, ...]  # the urgent tests, or the first test of the work-up
    then_tests: tuple[str, ...]  # the tests after it, by title
    options: tuple[OptionLine, ...]
    options_from: str  # "appropriate"; "urgent" (a red flag: elective options wait); "uncertain" (none appropriate)
    scs_advice: AdviceLevel | None  # the spinal cord stimulation advice, when the plan refers for SCS
    scs_step: str | None  # the plan's SCS step ("Refer for SCS assessment ..., then a trial")
    not_ranked_for: str | None = None  # the operated region ("cervical", "thoracic") when the causes are not ranked

    @property
    def level(self) -> Urgency | None:
        """The most urgent fired flag's urgency."""
        return self.act_now[0].urgency if self.act_now else None

    @property
    def not_ranked_text(self) -> str | None:
        """What stands in for the causes when none is ranked (in English; the templates translate it)."""
        if self.not_ranked_for is None:
            return None
        return (
            f"Not ranked for {self.not_ranked_for} operations — assess clinically; the red flags and work-up still "
            "apply"
        )


def strongest_reasons(cause: CauseResult, limit: int = REASONS_PER_CAUSE) -> tuple[str, ...]:
    """The findings that raised a cause most, as phrases with their likelihood ratios."""
    ranked: list[Reason] = sorted(cause.raised_by, key=lambda r: r.weight, reverse=True)
    return tuple(f"{finding_phrase(r.title, r.state, r.observed)} (LR {r.likelihood_ratio:g})" for r in ranked[:limit])


def _option(rating: Rating) -> OptionLine:
    because = rating.because[0].because if rating.because else None
    return OptionLine(rating.id, rating.title, rating.label, rating.score, because, missing(rating))


def _options(assessment: Assessment) -> tuple[tuple[OptionLine, ...], str]:
    ratings = assessment.options.options
    if assessment.triage.fired:  # elective options wait until the red flag has been dealt with
        urgent = [r for r in ratings if not r.elective and r.label is Label.appropriate]
        return tuple(_option(r) for r in urgent[:SHOWN_OPTIONS]), "urgent"
    appropriate = [r for r in ratings if r.label is Label.appropriate]
    # in the plan's order: where the operation for an established target comes after its optimisation steps
    order = {s.ref: s.order for s in assessment.plan.steps if s.ref}
    appropriate.sort(key=lambda r: order.get(r.id, len(order) + 1))
    if appropriate:
        return tuple(_option(r) for r in appropriate[:SHOWN_OPTIONS]), "appropriate"
    uncertain = [r for r in ratings if r.label is Label.uncertain]
    return tuple(_option(r) for r in uncertain[:2]), "uncertain"


def decision_summary(assessment: Assessment) -> DecisionSummary:
    """The one-screen summary of an assessment."""
    triage = assessment.triage
    act_now = tuple(
        FlagLine(f.flag, f.title, f.urgency, f.action, tuple(map(trigger_phrase, f.fired_by))) for f in triage.fired
    )
    screen = tuple(q.text for q in triage.screen.open)  # as the screen card has it: follow-ups under their question
    causes = tuple(
        CauseLine(c.cause, c.title, c.probability, c.low, c.high, strongest_reasons(c), assessment.differential.ceiling)
        for c in assessment.differential.causes[:SHOWN_CAUSES]
    )
    work = assessment.workup
    if work.urgent:
        tests = tuple(TestLine(t.test, t.title, t.why, True) for t in work.urgent)
        then: tuple[str, ...] = ()
    elif triage.fired:
        tests, then = (), ()
    else:
        tests = tuple(TestLine(t.test, t.title, t.why, False) for t in work.ranked[:1])
        then = tuple(t.title for t in work.ranked[1 : 1 + THEN_TESTS])
    options, options_from = _options(assessment)
    step = next((s for s in assessment.plan.steps if s.kind == "scs"), None)
    scs = assessment.scs.advice if step is not None and not triage.fired else None
    not_ranked = assessment.derived.region.value if assessment.differential.not_ranked else None
    return DecisionSummary(
        act_now,
        screen,
        causes,
        tests,
        then,
        options,
        options_from,
        scs,
        step.title if step is not None and scs is not None else None,
        not_ranked,
    )
