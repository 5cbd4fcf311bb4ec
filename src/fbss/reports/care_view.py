"""The care-planning results laid out for a page or a document: each rated option beside its knowledge texts
(advantages, disadvantages, evidence), each suggested test beside its burden parts. Nothing is recomputed: the
ratings, ranks and plan are the Assessment's own; the texts are the knowledge base's own."""

from __future__ import annotations

from dataclasses import dataclass

from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import Burden, Statement
from fbss.reasoning.assess import Assessment
from fbss.reasoning.care_results import (
    GridRow,
    OptionRatings,
    Plan,
    Rating,
    RecordedResult,
    ScsAdvice,
    SetAside,
    TestSuggestion,
    Workup,
)

TEST_KIND_LABEL = {
    "history": "history",
    "examination": "examination",
    "questionnaire": "questionnaire",
    "laboratory": "laboratory test",
    "imaging": "imaging",
    "electrodiagnostic": "electrodiagnostic study",
    "diagnostic_block": "diagnostic block",
    "psychological": "psychological assessment",
    "bedside": "bedside test",
}


def _unique(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for group in groups for s in group))


@dataclass(frozen=True, slots=True)
class TestView:
    """A suggested test: the work-up's result, and what the burden score is made of."""

    test: TestSuggestion
    kind_label: str
    burden_parts: Burden | None
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OptionView:
    """A rated option: the rating (with its reasons) and the option's pros, cons and evidence from the knowledge."""

    rating: Rating
    description: str
    advantages: tuple[str, ...]
    disadvantages: tuple[str, ...]
    evidence: tuple[Statement, ...]
    recovery: Statement | None
    grid: GridRow | None  # the plain-language row of the patient's option grid, when the option is on it
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CareView:
    urgent: tuple[TestView, ...]
    ranked: tuple[TestView, ...]  # investigations to order
    questions: tuple[TestView, ...]  # history, examination and questionnaires
    deferred: tuple[SetAside, ...]
    not_suggested: tuple[SetAside, ...]
    recorded: tuple[RecordedResult, ...]  # urgent tests already done: result shown, not ordered again
    categories: tuple[Rating, ...]
    options: tuple[OptionView, ...]
    scs: ScsAdvice
    plan: Plan

    def sources(self) -> tuple[str, ...]:
        """Every source id the care sections cite, in order of first citation."""
        groups: list[tuple[str, ...]] = [t.sources for t in (*self.urgent, *self.ranked, *self.questions)]
        groups += [b.sources for r in self.categories for b in r.because]
        groups += [o.sources for o in self.options]
        groups += [b.sources for b in (*self.scs.clinical.because, *self.scs.stopped_by, *self.scs.conditions)]
        groups += [self.scs.advice_basis.sources, *(n.sources for n in self.scs.nice)]
        groups += [s.sources for s in self.plan.steps]
        groups += [f.sources for f in self.plan.follow_up] + [o.sources for o in self.plan.outcomes]
        return _unique(*groups)


def _test_view(test: TestSuggestion, kb: KnowledgeBase) -> TestView:
    definition = next((t for t in kb.care.tests.tests if t.id == test.test), None)
    accuracy = test.accuracy.sources if test.accuracy else ()
    return TestView(
        test=test,
        kind_label=TEST_KIND_LABEL.get(test.kind.value, test.kind.value),
        burden_parts=definition.burden if definition else None,
        sources=_unique(accuracy, *(c.sources for c in test.cautions)),
    )


def _workup(work: Workup, kb: KnowledgeBase) -> tuple[tuple[TestView, ...], tuple[TestView, ...], tuple[TestView, ...]]:
    urgent = tuple(_test_view(t, kb) for t in work.urgent)
    return urgent, tuple(_test_view(t, kb) for t in work.ranked), tuple(_test_view(t, kb) for t in work.questions)


def _options(ratings: OptionRatings, plan: Plan, kb: KnowledgeBase) -> tuple[OptionView, ...]:
    treatments = {t.id: t for t in kb.care.treatments}
    grid = {row.option: row for row in plan.grid}
    views = []
    for rating in ratings.options:
        treatment = treatments.get(rating.id)
        row = grid.get(rating.id)
        evidence = treatment.evidence if treatment else ()
        recovery = treatment.recovery if treatment else None
        views.append(
            OptionView(
                rating=rating,
                description=treatment.description if treatment else "",
                advantages=treatment.advantages if treatment else (),
                disadvantages=treatment.disadvantages if treatment else (),
                evidence=evidence,
                recovery=recovery,
                grid=row,
                sources=_unique(
                    *(b.sources for b in rating.because),
                    *(s.sources for s in evidence),
                    recovery.sources if recovery else (),
                    row.sources if row else (),
                ),
            )
        )
    return tuple(views)


def care_view(assessment: Assessment, kb: KnowledgeBase) -> CareView:
    """The work-up, option ratings, SCS advice and plan of one assessment, with the knowledge texts they name."""
    urgent, ranked, questions = _workup(assessment.workup, kb)
    return CareView(
        urgent=urgent,
        ranked=ranked,
        questions=questions,
        deferred=assessment.workup.deferred,
        not_suggested=assessment.workup.not_suggested,
        recorded=assessment.workup.recorded,
        categories=assessment.options.categories,
        options=_options(assessment.options, assessment.plan, kb),
        scs=assessment.scs,
        plan=assessment.plan,
    )
