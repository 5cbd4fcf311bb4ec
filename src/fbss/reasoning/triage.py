"""Red-flag triage: which flags fire, which must be asked about now, and the most urgent level."""

from __future__ import annotations

from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import URGENCY_RANK, AllOf, AnyOf, Expression, Not, RedFlagDef
from fbss.reasoning.findings import (
    Evaluator,
    FindingStates,
    compile_expression,
    evaluate_expression,
    finding_order,
)
from fbss.reasoning.results import Question, RedFlagResult, Triage, Trigger

P, A, U = Presence.present, Presence.absent, Presence.unknown


def _deciding(expr: Expression, states: dict[str, Presence], want: Presence) -> list[str]:
    """The leaf findings that make `expr` evaluate to `want` (present: the triggers; unknown: what to ask)."""
    if isinstance(expr, str):
        return [expr] if states[expr] is want else []
    if isinstance(expr, AnyOf):
        parts = [p for p in expr.any_of if evaluate_expression(p, states) is want]
        return [leaf for p in parts for leaf in _deciding(p, states, want)]
    if isinstance(expr, AllOf):
        if want is P:
            return [leaf for p in expr.all_of for leaf in _deciding(p, states, P)]
        parts = [p for p in expr.all_of if evaluate_expression(p, states) is U]
        return [leaf for p in parts for leaf in _deciding(p, states, U)]
    assert isinstance(expr, Not)
    if want is U:
        return _deciding(expr.not_, states, U)
    # An exclusion that does not hold ("no imaging has ruled out a haematoma") lets a flag fire but does not trigger
    # it: listing "Imaging showed no epidural haematoma" among the triggers would read as the opposite.
    return []


@cache
def _not_askable(kb: KnowledgeBase) -> tuple[str, ...]:
    return tuple(fid for fid, finding in kb.findings.items() if not finding.is_askable)


@cache
def _expressions(kb: KnowledgeBase) -> tuple[tuple[str, Evaluator], ...]:
    """Expression findings, compiled, each after the findings it reads."""
    result = []
    for fid in finding_order(kb):
        expression = kb.findings[fid].expression
        if expression is not None:
            result.append((fid, compile_expression(expression)))
    return tuple(result)


@cache
def _flags(kb: KnowledgeBase) -> tuple[tuple[RedFlagDef, Evaluator], ...]:
    return tuple((flag, compile_expression(flag.when)) for flag in kb.red_flags)


def _bedside_view(findings: FindingStates, kb: KnowledgeBase) -> dict[str, Presence]:
    """States with unknown tests and measurements read as not (yet) positive, expressions recomputed."""
    states = dict(findings.state)
    changed = False
    for fid in _not_askable(kb):
        if states[fid] is U:
            states[fid] = A
            changed = True
    if changed:
        for fid, evaluate in _expressions(kb):
            states[fid] = evaluate(states)
    return states


def triage(findings: FindingStates, kb: KnowledgeBase) -> Triage:
    """Evaluate every red flag; unknown deciding items give 'ask now', never silence.

    Items that cannot be asked at the bedside (a scan, a lab value, a bladder-scan volume) fire a flag when present
    but, when unknown, do not raise 'ask now': the flag's action orders them.
    """
    states = _bedside_view(findings, kb)
    fired: list[RedFlagResult] = []
    ask: list[RedFlagResult] = []
    for flag, when in _flags(kb):
        status = when(states)
        if status is A:
            continue
        if status is P:
            leaves = dict.fromkeys(_deciding(flag.when, states, P))
            triggers = tuple(Trigger(f, kb.findings[f].title, findings.observed.get(f)) for f in leaves)
            questions: tuple[Question, ...] = ()
        else:
            leaves = dict.fromkeys(_deciding(flag.when, states, U))
            triggers = ()
            questions = tuple(Question(f, kb.findings[f].title, kb.findings[f].question) for f in leaves)
        result = RedFlagResult(
            flag=flag.id,
            title=flag.title,
            urgency=flag.urgency,
            status="fired" if status is P else "ask_now",
            action=flag.action,
            patient_advice=flag.patient_advice,
            fired_by=triggers,
            ask_about=questions,
            evidence=flag.evidence,
            sources=flag.sources,
        )
        (fired if status is P else ask).append(result)
    fired.sort(key=lambda r: URGENCY_RANK[r.urgency])
    ask.sort(key=lambda r: URGENCY_RANK[r.urgency])
    level = fired[0].urgency if fired else None
    return Triage(level=level, fired=tuple(fired), ask_now=tuple(ask))
