"""Read every knowledge-base finding from a case as present, absent or unknown, with the value that decided it."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from fbss.case.derived import DerivedFacts, derive
from fbss.case.model import Case, DiagnosticResult, Presence
from fbss.case.paths import DERIVED_PREFIX
from fbss.case.vocabulary import DiagnosticFinding, Lab, Modality, Treatment
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import AllOf, AnyOf, Expression, FindingDef, Not, Threshold, expression_ids

P, A, U = Presence.present, Presence.absent, Presence.unknown

Observed = str | float | None
Reader = Callable[[Case, DerivedFacts, dict[str, Presence]], tuple[Presence, Observed]]


@dataclass(frozen=True, slots=True)
class FindingStates:
    """The state of every finding for one case, plus what was observed (for explanations)."""

    state: dict[str, Presence]
    observed: dict[str, Observed]
    derived: DerivedFacts


def _compare(threshold: Threshold) -> Callable[[float], bool]:
    checks: list[Callable[[float], bool]] = []
    if threshold.above is not None:
        checks.append(lambda v, t=threshold.above: v > t)
    if threshold.at_least is not None:
        checks.append(lambda v, t=threshold.at_least: v >= t)
    if threshold.below is not None:
        checks.append(lambda v, t=threshold.below: v < t)
    if threshold.at_most is not None:
        checks.append(lambda v, t=threshold.at_most: v <= t)
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _field_reader(finding: FindingDef) -> Reader:
    path = finding.field or ""
    on_derived = path.startswith(DERIVED_PREFIX)
    get = operator.attrgetter(path.removeprefix(DERIVED_PREFIX))
    if finding.threshold is not None:
        passes = _compare(finding.threshold)

        def read_number(case: Case, derived: DerivedFacts, _: dict[str, Presence]) -> tuple[Presence, Observed]:
            value = get(derived if on_derived else case)
            if value is None:
                return U, None
            return (P if passes(value) else A), value

        return read_number
    if finding.one_of is not None:
        wanted = frozenset(finding.one_of)

        def read_enum(case: Case, derived: DerivedFacts, _: dict[str, Presence]) -> tuple[Presence, Observed]:
            value = get(derived if on_derived else case).value
            if value == "unknown":
                return U, None
            return (P if value in wanted else A), value

        return read_enum

    def read_presence(case: Case, derived: DerivedFacts, _: dict[str, Presence]) -> tuple[Presence, Observed]:
        value: Presence = get(derived if on_derived else case)
        return value, None

    return read_presence


def _diagnostic_reader(finding: FindingDef) -> Reader:
    code = DiagnosticFinding(finding.diagnostic)
    seen_on = frozenset(Modality(m) for m in finding.seen_on)

    def read(case: Case, derived: DerivedFacts, _: dict[str, Presence]) -> tuple[Presence, Observed]:
        state = U
        for result in case.diagnostics:
            if result.finding is code:
                if result.presence is P:
                    return P, _where(result)
                if result.presence is A:
                    state = A
        if state is U and any(s.reported_in_full and s.modality in seen_on for s in case.studies):
            return A, None
        return state, None

    return read


def _where(result: DiagnosticResult) -> str | None:
    side = result.side.value if result.side.value != "unknown" else None
    return " ".join(x for x in (result.level, side, result.modality.value) if x) or None


def _lab_reader(finding: FindingDef) -> Reader:
    lab = Lab(finding.lab)
    assert finding.threshold is not None
    passes = _compare(finding.threshold)

    def read(case: Case, derived: DerivedFacts, _: dict[str, Presence]) -> tuple[Presence, Observed]:
        matching = [r for r in case.labs if r.lab is lab]
        if not matching:
            return U, None
        # the most recent value decides; undated values count as older than dated ones
        latest = max(enumerate(matching), key=lambda ir: (ir[1].date is not None, ir[1].date or 0, ir[0]))[1]
        return (P if passes(latest.value) else A), latest.value

    return read


def _treatment_reader(finding: FindingDef) -> Reader:
    treatment = Treatment(finding.treatment)
    passes = _compare(finding.threshold) if finding.threshold is not None else None

    def read(case: Case, derived: DerivedFacts, _: dict[str, Presence]) -> tuple[Presence, Observed]:
        state = U
        for prior in case.prior_treatments:
            if prior.treatment is not treatment:
                continue
            if passes is None:
                return P, prior.relief_percent
            if prior.relief_percent is None:
                continue
            if passes(prior.relief_percent):
                return P, prior.relief_percent
            state = A
        return state, None

    return read


def evaluate_expression(expr: Expression, states: dict[str, Presence]) -> Presence:
    """Kleene three-valued logic: unknown stays unknown unless the known parts already decide."""
    if isinstance(expr, str):
        return states[expr]
    if isinstance(expr, AnyOf):
        result = A
        for part in expr.any_of:
            value = evaluate_expression(part, states)
            if value is P:
                return P
            if value is U:
                result = U
        return result
    if isinstance(expr, AllOf):
        result = P
        for part in expr.all_of:
            value = evaluate_expression(part, states)
            if value is A:
                return A
            if value is U:
                result = U
        return result
    assert isinstance(expr, Not)
    inner = evaluate_expression(expr.not_, states)
    return A if inner is P else P if inner is A else U


def _expression_reader(finding: FindingDef) -> Reader:
    expression = finding.expression
    assert expression is not None

    def read(case: Case, derived: DerivedFacts, states: dict[str, Presence]) -> tuple[Presence, Observed]:
        return evaluate_expression(expression, states), None

    return read


def _reader(finding: FindingDef) -> Reader:
    if finding.field is not None:
        return _field_reader(finding)
    if finding.diagnostic is not None:
        return _diagnostic_reader(finding)
    if finding.lab is not None:
        return _lab_reader(finding)
    if finding.treatment is not None:
        return _treatment_reader(finding)
    return _expression_reader(finding)


@cache
def finding_order(kb: KnowledgeBase) -> tuple[str, ...]:
    """Findings ordered so that every expression comes after the findings it reads."""
    ordered: list[str] = []
    done: set[str] = set()

    def visit(fid: str) -> None:
        if fid in done:
            return
        expression = kb.findings[fid].expression
        for child in expression_ids(expression) if expression is not None else []:
            visit(child)
        done.add(fid)
        ordered.append(fid)

    for fid in kb.findings:
        visit(fid)
    return tuple(ordered)


@cache
def compiled_readers(kb: KnowledgeBase) -> tuple[tuple[str, Reader], ...]:
    """One reader per finding, built once per knowledge base."""
    return tuple((fid, _reader(kb.findings[fid])) for fid in finding_order(kb))


def read_findings(case: Case, kb: KnowledgeBase) -> FindingStates:
    """Evaluate every finding of the knowledge base against a case."""
    derived = derive(case)
    state: dict[str, Presence] = {}
    observed: dict[str, Any] = {}
    for fid, reader in compiled_readers(kb):
        value, seen = reader(case, derived, state)
        state[fid] = value
        if seen is not None:
            observed[fid] = seen
    return FindingStates(state=state, observed=observed, derived=derived)
