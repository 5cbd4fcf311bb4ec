"""Assess every case of the development set and keep what the engine said next to the known answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment, assess
from fbss.validation.devset import DevCase
from fbss.validation.metrics import Outcome

URGENT = frozenset({Urgency.emergency, Urgency.same_day})  # a case counts as caught when one of these fires


def investigations(assessment: Assessment) -> tuple[str, ...]:
    """The suggested tests that are ordered (not questions asked or examined at the visit), in the order shown."""
    workup = assessment.workup
    return tuple(t.test for t in (*workup.urgent, *workup.ranked) if not t.kind.is_question)


def outcome(dev: DevCase, assessment: Assessment) -> Outcome:
    return Outcome(
        case_id=dev.id,
        split=dev.split.value,
        cause=dev.answer.cause,
        emergency=dev.answer.emergency,
        deciding_test=dev.answer.deciding_test,
        ranked=tuple((c.cause, c.probability) for c in assessment.differential.causes),
        urgent_flags=tuple(f.flag for f in assessment.triage.fired if f.urgency in URGENT),
        investigations=investigations(assessment),
        questions=tuple(t.test for t in assessment.workup.questions),
        region=dev.region,
    )


def run(cases: Iterable[DevCase], kb: KnowledgeBase, advance: Callable[[], None] | None = None) -> list[Outcome]:
    """Assess each case (pure apart from `advance`, called once per case for a progress bar)."""
    result = []
    for dev in cases:
        result.append(outcome(dev, assess(dev.case, kb)))
        if advance is not None:
            advance()
    return result
