"""Causes that need urgent care once the differential makes them likely.

A red flag fires on findings alone. Some emergencies have no single finding that says so (a bowel injury after a
posterior discectomy, a Guillain-Barré syndrome after a fusion): the differential puts them first, and leaving that
without an urgent flag would let an elective work-up run on. Each such cause names its urgency, the probability at
which it fires and the action (`emergency` in causes.yaml); it fires only on a present finding that raised it, never
on a prior alone, calls for the tests that settle it, and stays silent when a red flag that already calls for the
same care has fired. Where only some presentations make the cause an emergency (`when`: haemodynamic signs, the first
days, an anterior approach), the others fire at the lesser urgency the cause names (`otherwise`), or not at all; and
none fires while `not_when` holds (the first days after surgery, when a fever or a raised CRP is expected anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import Expression, act_now_rank
from fbss.reasoning.findings import States, compile_expression
from fbss.reasoning.results import CauseResult, Differential, RedFlagResult, Triage, Trigger

FLAG_PREFIX = "likely_"  # a flag raised by the differential is named after its cause: likely_<cause id>
LIKELY_FROM = 0.5  # the probability from which the title says "Likely"; below it, "Possible"


@cache
def _compiled(expr: Expression) -> Callable[[States], Presence]:
    return compile_expression(expr)


def _holds(expr: Expression | None, states: States) -> bool:
    return expr is not None and _compiled(expr)(states) is Presence.present


def _likelihood(probability: float) -> str:
    """'Likely' from an even chance up, 'Possible' below it: a title must not overstate a 27 % cause."""
    return "Likely" if probability >= LIKELY_FROM else "Possible"


def _flag(cause: CauseResult, fired: set[str], states: States, kb: KnowledgeBase) -> RedFlagResult | None:
    emergency = kb.cause(cause.cause).emergency
    if emergency is None or cause.probability < emergency.min_probability or fired & set(emergency.covered_by):
        return None
    if _holds(emergency.not_when, states):
        return None
    urgency, action, advice = emergency.urgency, emergency.action, emergency.patient_advice
    resuscitation = emergency.resuscitation
    if emergency.when is not None and not _holds(emergency.when, states):
        if emergency.otherwise is None:
            return None
        lesser = emergency.otherwise
        urgency, action, advice = lesser.urgency, lesser.action, lesser.patient_advice
        resuscitation = None
    present = (r for r in cause.raised_by if r.state is Presence.present)
    triggers = tuple(Trigger(r.finding, r.title, r.observed, r.source) for r in present)
    if not triggers:
        return None
    return RedFlagResult(
        flag=FLAG_PREFIX + cause.cause,
        title=f"{_likelihood(cause.probability)} {cause.title[0].lower()}{cause.title[1:]}",
        urgency=urgency,
        status="fired",
        action=action,
        patient_advice=advice,
        fired_by=triggers,
        ask_about=(),
        evidence=emergency.evidence,
        sources=emergency.sources,
        resuscitation=resuscitation,
    )


def with_likely_emergencies(triage: Triage, differential: Differential, states: States, kb: KnowledgeBase) -> Triage:
    """The triage with a flag for every urgent cause the differential makes likely (pure)."""
    already = {f.flag for f in triage.fired}
    raised = [flag for cause in differential.causes if (flag := _flag(cause, already, states, kb)) is not None]
    if not raised:
        return triage
    fired = sorted((*triage.fired, *raised), key=lambda r: act_now_rank(r.urgency, r.resuscitation))
    return triage._replace(level=fired[0].urgency, fired=tuple(fired))


@cache
def urgent_tests(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Test id -> the flags raised by the differential that call for it at once."""
    result: dict[str, tuple[str, ...]] = {}
    for cause in kb.causes:
        if cause.emergency is not None:
            for test in cause.emergency.tests:
                result[test] = (*result.get(test, ()), FLAG_PREFIX + cause.id)
    return result
