"""Read every knowledge-base finding from a case as present, absent or unknown, with the value that decided it.

Each finding is compiled once per knowledge base into a small reader function; a case is read in one pass.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from fbss.case.derived import DerivedFacts, LevelledFinding, derive, levelled_findings, where
from fbss.case.levels import LevelRelation
from fbss.case.model import Case, DiagnosticResult, LabReading, LabResult, Presence, PriorTreatment
from fbss.case.paths import DERIVED_PREFIX
from fbss.case.vocabulary import RESPONSE_RELIEF, DiagnosticFinding, Lab, Modality, Treatment
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import finding_inputs
from fbss.knowledge.models import AllOf, AnyOf, Expression, FindingDef, Not, Threshold

P, A, U = Presence.present, Presence.absent, Presence.unknown

Observed = str | float | None
States = dict[str, Presence]
Evaluator = Callable[[States], Presence]


@dataclass(frozen=True, slots=True)
class CaseIndex:
    """A case with its derived facts and its lists indexed by code, built once per assessment."""

    case: Case
    derived: DerivedFacts
    diagnostics: dict[DiagnosticFinding, list[DiagnosticResult]]
    full_studies: frozenset[Modality]
    reported: frozenset[Modality]  # every kind of study whose report is known (listed, or a finding coded from it)
    levelled: tuple[LevelledFinding, ...]  # study findings with a level, related to the operated segments
    latest_lab: dict[Lab, LabResult]
    treatments: dict[Treatment, list[PriorTreatment]]


def index_case(case: Case) -> CaseIndex:
    diagnostics: dict[DiagnosticFinding, list[DiagnosticResult]] = {}
    for result in case.diagnostics:
        diagnostics.setdefault(result.finding, []).append(result)
    latest: dict[Lab, LabResult] = {}
    for lab in case.labs:
        # the most recent value decides; undated values count as older than dated ones, later entries win ties
        current = latest.get(lab.lab)
        if (
            current is None
            or (lab.date is not None and (current.date is None or lab.date >= current.date))
            or (lab.date is None and current.date is None)
        ):
            latest[lab.lab] = lab
    treatments: dict[Treatment, list[PriorTreatment]] = {}
    for treatment in case.prior_treatments:
        treatments.setdefault(treatment.treatment, []).append(treatment)
    derived = derive(case)
    return CaseIndex(
        case=case,
        derived=derived,
        diagnostics=diagnostics,
        full_studies=frozenset(s.modality for s in case.studies if s.reported_in_full),
        reported=frozenset([s.modality for s in case.studies] + [d.modality for d in case.diagnostics])
        - {Modality.other},
        levelled=levelled_findings(case, derived),
        latest_lab=latest,
        treatments=treatments,
    )


Reader = Callable[[CaseIndex, States], tuple[Presence, Observed]]


@dataclass(frozen=True, slots=True)
class FindingStates:
    """The state of every finding for one case, plus what was observed (for explanations)."""

    state: States
    observed: dict[str, Observed]
    derived: DerivedFacts
    # diagnostic findings not shown by a study that was done, with that study's sensitivity for them: the
    # differential reads "not seen on an MRI" as evidence against what the MRI would have shown
    unseen: dict[str, float]


def _against(test: Callable[[float, float], bool], bound: float, value: float) -> bool:
    return test(value, bound)


def _compare(threshold: Threshold) -> Callable[[float], bool]:
    checks: list[Callable[[float], bool]] = []
    for bound, test in (
        (threshold.above, operator.gt),
        (threshold.at_least, operator.ge),
        (threshold.below, operator.lt),
        (threshold.at_most, operator.le),
    ):
        if bound is not None:
            checks.append(functools.partial(_against, test, bound))
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _field_reader(finding: FindingDef) -> Reader:
    path = finding.field or ""
    on_derived = path.startswith(DERIVED_PREFIX)
    get = operator.attrgetter(path.removeprefix(DERIVED_PREFIX))
    if finding.threshold is not None:
        passes = _compare(finding.threshold)

        def read_number(ix: CaseIndex, _: States) -> tuple[Presence, Observed]:
            value = get(ix.derived if on_derived else ix.case)
            if value is None:
                return U, None
            return (P if passes(value) else A), value

        return read_number
    if finding.one_of is not None:
        wanted = frozenset(finding.one_of)

        def read_enum(ix: CaseIndex, _: States) -> tuple[Presence, Observed]:
            value = get(ix.derived if on_derived else ix.case).value
            if value == "unknown":
                return U, None
            return (P if value in wanted else A), value

        return read_enum

    def read_presence(ix: CaseIndex, _: States) -> tuple[Presence, Observed]:
        value: Presence = get(ix.derived if on_derived else ix.case)
        return value, None

    return read_presence


def _levelled_reader(finding: FindingDef) -> Reader:
    """A coded study finding at a level with a given relation to the operated segments (same, adjacent, remote).

    Present when a result at such a level shows it; absent when a result at such a level says it is not there;
    unknown otherwise (a finding elsewhere says nothing about this level).
    """
    code = DiagnosticFinding(finding.diagnostic or "")
    relation = LevelRelation(finding.level or "unknown")

    def read(ix: CaseIndex, _: States) -> tuple[Presence, Observed]:
        state = U
        for result in ix.levelled:
            if result.finding is code and result.relation is relation:
                if result.presence is P:
                    return P, f"{result.level} ({relation.value} level)"
                if result.presence is A:
                    state = A
        return state, None

    return read


def _diagnostic_reader(finding: FindingDef) -> Reader:
    if finding.level is not None:
        return _levelled_reader(finding)
    code = DiagnosticFinding(finding.diagnostic or "")
    seen_on = frozenset(Modality(m) for m in finding.seen_on)
    if finding.ruled_out:
        seen = _diagnostic_reader(finding.model_copy(update={"ruled_out": False}))
        flip = {P: A, A: P, U: U}

        def read_ruled_out(ix: CaseIndex, states: States) -> tuple[Presence, Observed]:
            state, _ = seen(ix, states)
            return flip[state], None

        return read_ruled_out

    def read(ix: CaseIndex, _: States) -> tuple[Presence, Observed]:
        results = ix.diagnostics.get(code)
        if results:
            for result in results:
                if result.presence is P:
                    return P, where(result)
            if any(result.presence is A for result in results):
                return A, None
        if seen_on and not seen_on.isdisjoint(ix.full_studies):
            return A, None
        return U, None

    return read


def _lab_reader(finding: FindingDef) -> Reader:
    lab = Lab(finding.lab or "")
    assert finding.threshold is not None
    passes = _compare(finding.threshold)

    def read(ix: CaseIndex, _: States) -> tuple[Presence, Observed]:
        latest = ix.latest_lab.get(lab)
        if latest is None:
            return U, None
        if latest.value is None:  # only the reading is known: raised means above the reference range
            return (P if latest.reading is LabReading.raised else A), latest.reading.value if latest.reading else None
        return (P if passes(latest.value) else A), latest.value

    return read


def _bounds(threshold: Threshold) -> int:
    return sum(b is not None for b in (threshold.above, threshold.at_least, threshold.below, threshold.at_most))


def _relief_state(prior: PriorTreatment, passes: Callable[[float], bool], one_sided: bool) -> tuple[Presence, Observed]:
    """A % relief threshold read from the stated percentage, else from the band the response word stands for."""
    if prior.relief_percent is not None:
        return (P if passes(prior.relief_percent) else A), prior.relief_percent
    band = RESPONSE_RELIEF.get(prior.response)
    if band is None:
        return U, None
    low, high = (passes(end) for end in band)
    if low and high:
        return P, prior.response.value
    if not low and not high and one_sided:
        return A, prior.response.value
    return U, None


def _treatment_reader(finding: FindingDef) -> Reader:
    treatment = Treatment(finding.treatment or "")
    threshold = finding.threshold
    passes = _compare(threshold) if threshold is not None else None
    one_sided = threshold is not None and _bounds(threshold) == 1

    def read(ix: CaseIndex, _: States) -> tuple[Presence, Observed]:
        tried = ix.treatments.get(treatment)
        if not tried:
            return U, None
        if passes is None:
            return P, tried[0].relief_percent
        state = U
        for prior in tried:
            value, seen = _relief_state(prior, passes, one_sided)
            if value is P:
                return P, seen
            if value is A:
                state = A
        return state, None

    return read


def compile_expression(expr: Expression) -> Evaluator:
    """Kleene three-valued logic compiled to a closure: unknown stays unknown unless the known parts decide."""
    if isinstance(expr, str):
        return operator.itemgetter(expr)
    if isinstance(expr, AnyOf):
        parts = tuple(compile_expression(e) for e in expr.any_of)

        def any_of(states: States) -> Presence:
            result = A
            for part in parts:
                value = part(states)
                if value is P:
                    return P
                if value is U:
                    result = U
            return result

        return any_of
    if isinstance(expr, AllOf):
        parts = tuple(compile_expression(e) for e in expr.all_of)

        def all_of(states: States) -> Presence:
            result = P
            for part in parts:
                value = part(states)
                if value is A:
                    return A
                if value is U:
                    result = U
            return result

        return all_of
    assert isinstance(expr, Not)
    inner = compile_expression(expr.not_)
    flip = {P: A, A: P, U: U}

    def negate(states: States) -> Presence:
        return flip[inner(states)]

    return negate


def evaluate_expression(expr: Expression, states: States) -> Presence:
    """Evaluate an expression once (compiled evaluators are cached per knowledge base elsewhere)."""
    return compile_expression(expr)(states)


def _expression_reader(finding: FindingDef) -> Reader:
    assert finding.expression is not None
    evaluate = compile_expression(finding.expression)

    def read(ix: CaseIndex, states: States) -> tuple[Presence, Observed]:
        return evaluate(states), None

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
        for child in finding_inputs(kb.findings[fid]):
            visit(child)
        done.add(fid)
        ordered.append(fid)

    for fid in kb.findings:
        visit(fid)
    return tuple(ordered)


def _implied(read_recorded: Reader, absent_if: Evaluator | None, screened: bool) -> Reader:
    """A reader that answers 'absent' for an item left unknown when other answers imply it: its `absent_if`
    holds, or it is a red-flag screen question and the screen was recorded negative for this visit."""

    def read(ix: CaseIndex, states: States) -> tuple[Presence, Observed]:
        value, seen = read_recorded(ix, states)
        if value is U and (
            (screened and ix.derived.red_flag_screen_negative is P)
            or (absent_if is not None and absent_if(states) is P)
        ):
            return A, None
        return value, seen

    return read


@cache
def compiled_readers(kb: KnowledgeBase) -> tuple[tuple[str, Reader], ...]:
    """One reader per finding, built once per knowledge base."""
    screen = frozenset(kb.screen)
    readers = []
    for fid in finding_order(kb):
        finding = kb.findings[fid]
        reader = _reader(finding)
        if finding.absent_if is not None or fid in screen:
            absent_if = compile_expression(finding.absent_if) if finding.absent_if is not None else None
            reader = _implied(reader, absent_if, fid in screen)
        readers.append((fid, reader))
    return tuple(readers)


Getter = Callable[[object], tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class FieldBatch:
    """Field findings of one kind read from one object (the case or its derived facts) with one attribute getter."""

    ids: tuple[str, ...]
    values: Getter
    tests: tuple[Any, ...] = ()  # numbers: the threshold test; choices: the wanted values


@dataclass(frozen=True, slots=True)
class ReadingPlan:
    """How a knowledge base's findings are read: field findings in batches (they depend on no other finding), then
    every other finding in dependency order."""

    presence: tuple[FieldBatch, FieldBatch]  # (case, derived)
    numbers: tuple[FieldBatch, FieldBatch]
    choices: tuple[FieldBatch, FieldBatch]
    diagnostics: tuple[tuple[str, DiagnosticFinding, frozenset[Modality], Reader], ...]
    others: tuple[tuple[str, Reader], ...]


def _getter(paths: list[str]) -> Getter:
    if not paths:
        return lambda _obj: ()
    get: Callable[[object], Any] = operator.attrgetter(*paths)
    if len(paths) == 1:
        return lambda obj: (get(obj),)
    return get  # several names: attrgetter returns a tuple


def _kind(finding: FindingDef) -> str:
    if finding.diagnostic is not None and not finding.ruled_out and finding.level is None:
        return "diagnostic"  # a finding at a level relative to the operation is read by its own reader
    if finding.field is None:
        return "other"
    if finding.threshold is not None:
        return "number"
    if finding.one_of is not None:
        return "choice"
    return "presence"


def _batches(kb: KnowledgeBase, ids: list[str], kind: str) -> tuple[FieldBatch, FieldBatch]:
    batches = []
    for on_derived in (False, True):
        chosen = [f for f in ids if (kb.findings[f].field or "").startswith(DERIVED_PREFIX) is on_derived]
        paths = [(kb.findings[f].field or "").removeprefix(DERIVED_PREFIX) for f in chosen]
        tests: tuple[Any, ...] = ()
        if kind == "number":
            tests = tuple(_compare(kb.findings[f].threshold) for f in chosen)  # type: ignore[arg-type]
        elif kind == "choice":
            tests = tuple(frozenset(kb.findings[f].one_of or ()) for f in chosen)
        batches.append(FieldBatch(tuple(chosen), _getter(paths), tests))
    return batches[0], batches[1]


@cache
def reading_plan(kb: KnowledgeBase) -> ReadingPlan:
    """The reading plan of a knowledge base, built once."""
    grouped: dict[str, list[str]] = {"presence": [], "number": [], "choice": []}
    diagnostics: list[tuple[str, DiagnosticFinding, frozenset[Modality], Reader]] = []
    others: list[tuple[str, Reader]] = []
    screen = frozenset(kb.screen)
    for fid, reader in compiled_readers(kb):
        finding = kb.findings[fid]
        # an item other answers can imply (absent_if, a negative red-flag screen) is read after them, in order
        kind = "other" if finding.absent_if is not None or fid in screen else _kind(finding)
        if kind == "other":
            others.append((fid, reader))
        elif kind == "diagnostic":
            seen_on = frozenset(Modality(m) for m in finding.seen_on)
            diagnostics.append((fid, DiagnosticFinding(finding.diagnostic or ""), seen_on, reader))
        else:
            grouped[kind].append(fid)
    return ReadingPlan(
        presence=_batches(kb, grouped["presence"], "presence"),
        numbers=_batches(kb, grouped["number"], "number"),
        choices=_batches(kb, grouped["choice"], "choice"),
        diagnostics=tuple(diagnostics),
        others=tuple(others),
    )


@dataclass(frozen=True, slots=True)
class _Sensitivities:
    leaves: tuple[tuple[str, dict[Modality, float]], ...]  # diagnostic finding -> sensitivity of each modality
    unions: tuple[tuple[str, tuple[str, ...]], ...]  # any_of expressions over such findings, in reading order


@cache
def _sensitivities(kb: KnowledgeBase) -> _Sensitivities:
    by_finding: dict[str, dict[Modality, float]] = {}
    for entry in kb.sensitivities:
        by_finding.setdefault(entry.finding, {})[Modality(entry.modality)] = entry.sensitivity
    unions = []
    for fid in finding_order(kb):
        expression = kb.findings[fid].expression
        if isinstance(expression, AnyOf) and all(isinstance(e, str) for e in expression.any_of):
            parts = tuple(str(e) for e in expression.any_of)
            if all(p in by_finding for p in parts):
                unions.append((fid, parts))
    return _Sensitivities(tuple(by_finding.items()), tuple(unions))


def _unseen(ix: CaseIndex, state: States, kb: KnowledgeBase) -> dict[str, float]:
    """Diagnostic findings not shown by a reported study, with the best sensitivity of the studies done for them.

    A union ("any fracture on imaging") is unseen at the lowest sensitivity of its parts.
    """
    if not ix.reported:
        return {}
    table = _sensitivities(kb)
    unseen: dict[str, float] = {}
    for fid, by_modality in table.leaves:
        if state[fid] is P:
            continue
        best = max((by_modality.get(m, 0.0) for m in ix.reported), default=0.0)
        if best > 0.0:
            unseen[fid] = best
    for fid, parts in table.unions:
        if state[fid] is not P and all(p in unseen for p in parts):
            unseen[fid] = min(unseen[p] for p in parts)
    return unseen


def read_findings(case: Case, kb: KnowledgeBase) -> FindingStates:
    """Evaluate every finding of the knowledge base against a case."""
    ix = index_case(case)
    plan = reading_plan(kb)
    state: States = {}
    observed: dict[str, Observed] = {}
    for batch, source in zip(plan.presence, (case, ix.derived), strict=True):
        state.update(zip(batch.ids, batch.values(source), strict=True))
    for batch, source in zip(plan.numbers, (case, ix.derived), strict=True):
        for fid, number, passes in zip(batch.ids, batch.values(source), batch.tests, strict=True):
            if number is None:
                state[fid] = U
            else:
                state[fid] = P if passes(number) else A
                observed[fid] = number
    for batch, source in zip(plan.choices, (case, ix.derived), strict=True):
        for fid, choice, wanted in zip(batch.ids, batch.values(source), batch.tests, strict=True):
            value = choice.value
            if value == "unknown":
                state[fid] = U
            else:
                state[fid] = P if value in wanted else A
                observed[fid] = value
    rows, full = ix.diagnostics, ix.full_studies
    for fid, code, seen_on, reader in plan.diagnostics:
        if code in rows:
            value, seen = reader(ix, state)
            state[fid] = value
            if seen is not None:
                observed[fid] = seen
        else:  # not listed: absent only if a study that shows it was reported in full
            state[fid] = A if seen_on and not seen_on.isdisjoint(full) else U
    for fid, reader in plan.others:
        value, seen = reader(ix, state)
        state[fid] = value
        if seen is not None:
            observed[fid] = seen
    return FindingStates(state=state, observed=observed, derived=ix.derived, unseen=_unseen(ix, state, kb))
