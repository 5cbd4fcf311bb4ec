"""Red-flag triage: which flags fire, which must be asked about now, and the most urgent level."""

from __future__ import annotations

from functools import cache, lru_cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import (
    URGENCY_RANK,
    AllOf,
    AnyOf,
    Expression,
    FindingDef,
    FindingGroup,
    Not,
    RedFlagDef,
    act_now_rank,
    expression_ids,
)
from fbss.reasoning.findings import (
    Evaluator,
    FindingStates,
    Observed,
    compile_expression,
    evaluate_expression,
    finding_order,
)
from fbss.reasoning.results import (
    FlagAtStake,
    Question,
    RedFlagResult,
    Screen,
    ScreenQuestion,
    Triage,
    Trigger,
)

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
def _context(kb: KnowledgeBase) -> frozenset[str]:
    return frozenset(fid for fid, f in kb.findings.items() if f.group is FindingGroup.surgery)


@cache
def _asked_only_if(kb: KnowledgeBase) -> tuple[tuple[str, Evaluator], ...]:
    return tuple(
        (fid, compile_expression(f.ask_if)) for fid, f in kb.findings.items() if f.is_askable and f.ask_if is not None
    )


@cache
def _flags(kb: KnowledgeBase) -> tuple[tuple[RedFlagDef, Evaluator], ...]:
    return tuple((flag, compile_expression(flag.when)) for flag in kb.red_flags)


def _bedside_view(findings: FindingStates, kb: KnowledgeBase) -> dict[str, Presence]:
    """States with unknown tests and measurements, and questions outside the time or setting they are asked in,
    read as not (yet) positive, expressions recomputed."""
    states = dict(findings.state)
    changed = False
    for fid in _not_askable(kb):
        if states[fid] is U:
            states[fid] = A
            changed = True
    for fid, ask_if in _asked_only_if(kb):
        if states[fid] is U and ask_if(states) is A:
            states[fid] = A
            changed = True
    if changed:
        for fid, evaluate in _expressions(kb):
            states[fid] = evaluate(states)
    return states


def _trigger(finding: FindingDef, observed: Observed) -> Trigger:
    """A finding that fired a flag, with where its value was read (so a renderer can give the unit)."""
    if observed is None:
        return Trigger(finding.id, finding.title, None)
    return Trigger(finding.id, finding.title, observed, finding.value_source)


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
            # what was found, not the setting it counts in (the operated region, the approach, the implants)
            leaves = dict.fromkeys(f for f in _deciding(flag.when, states, P) if f not in _context(kb))
            triggers = tuple(_trigger(kb.findings[f], findings.observed.get(f)) for f in leaves)
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
            definitive=flag.definitive,
            resuscitation=flag.resuscitation,
        )
        (fired if status is P else ask).append(result)
    fired = _grouped(fired, kb)
    ask.sort(key=lambda r: URGENCY_RANK[r.urgency])
    level = fired[0].urgency if fired else None
    return Triage(level=level, fired=tuple(fired), ask_now=tuple(ask), screen=_screen(ask, states, findings, kb))


def _grouped(fired: list[RedFlagResult], kb: KnowledgeBase) -> list[RedFlagResult]:
    """Most urgent first, resuscitation first within an urgency; a flag another fired flag covers (`covered_by`) is
    marked `within` it and listed after it."""
    by_id = {r.flag: r for r in fired}
    return [
        by_id[flag] if within is None else by_id[flag]._replace(within=within)
        for flag, within in grouped_flags(tuple(by_id), kb)
    ]


@cache
def _flag_facts(kb: KnowledgeBase) -> dict[str, tuple[tuple[int, int], tuple[str, ...]]]:
    """Flag id -> (how soon it is acted on: urgency, then resuscitation first; the flags that cover it)."""
    return {f.id: (act_now_rank(f.urgency, f.resuscitation), tuple(f.covered_by)) for f in kb.red_flags}


@lru_cache(maxsize=4096)  # few combinations of fired flags recur across a cohort
def grouped_flags(fired: tuple[str, ...], kb: KnowledgeBase) -> tuple[tuple[str, str | None], ...]:
    """The fired flags (knowledge-base order) in the order triage lists them, each with the flag it is listed within."""
    facts = _flag_facts(kb)
    ids = set(fired)
    within = {f: next((c for c in facts[f][1] if c in ids), None) for f in fired}
    heads = sorted((f for f in fired if within[f] is None), key=lambda f: facts[f][0])
    grouped: list[tuple[str, str | None]] = []
    for head in heads:
        grouped.append((head, None))
        grouped += [(f, head) for f in fired if _root(f, within) == head and f != head]
    listed = {f for f, _ in grouped}
    return (*grouped, *((f, None) for f in fired if f not in listed))  # never drop a fired flag (a cycle in covered_by)


def _root(flag: str, within: dict[str, str | None]) -> str:
    seen = {flag}
    while (up := within.get(flag)) is not None and up not in seen:
        seen.add(up)
        flag = up
    return flag


@cache
def screened(kb: KnowledgeBase) -> frozenset[str]:
    """Findings a negative screen answers: the screen's questions, and expressions whose bedside inputs all are."""
    done: dict[str, bool] = {}

    def answered(fid: str) -> bool:
        if fid not in done:
            finding = kb.findings[fid]
            if fid in kb.screen:
                done[fid] = True
            elif finding.expression is None:
                done[fid] = not finding.is_askable  # a scan or lab value is not asked, so it does not hold it open
            else:
                done[fid] = all(answered(i) for i in expression_ids(finding.expression))
        return done[fid]

    return frozenset(fid for fid in kb.findings if kb.findings[fid].is_askable and answered(fid))


@cache
def _leaves(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """Each finding's recorded items: itself, or the items its expression reads."""
    out: dict[str, frozenset[str]] = {}
    for fid in finding_order(kb):
        expression = kb.findings[fid].expression
        if expression is None:
            out[fid] = frozenset({fid})
        else:
            out[fid] = frozenset(leaf for i in expression_ids(expression) for leaf in out[i])
    return out


def _screen(
    ask: list[RedFlagResult], states: dict[str, Presence], findings: FindingStates, kb: KnowledgeBase
) -> Screen:
    """One checklist of the open questions, most urgent first, in the screen's order within an urgency.

    A question whose items another open question already asks about is folded into it ("diabetes" into "injecting
    drug use, diabetes, immunosuppression or a recent infection?"); one that is asked only if another is answered yes
    (`ask_if`) is listed under it as a follow-up."""
    at_stake: dict[str, list[RedFlagResult]] = {}
    questions: dict[str, Question] = {}
    for flag in ask:
        for question in flag.ask_about:
            at_stake.setdefault(question.finding, []).append(flag)
            questions.setdefault(question.finding, question)
    order = {fid: i for i, fid in enumerate(kb.screen)}
    leaves = _leaves(kb)
    into: dict[str, str] = {}
    for fid in sorted(at_stake, key=lambda f: -len(leaves[f])):
        wider = next((k for k in at_stake if k not in into and k != fid and leaves[fid] <= leaves[k]), None)
        if wider is not None and len(leaves[wider]) > len(leaves[fid]):
            into[fid] = wider
    follow: dict[str, list[str]] = {}
    for fid in at_stake:
        ask_if = kb.findings[fid].ask_if
        if fid in into or ask_if is None or evaluate_expression(ask_if, states) is not U:
            continue
        gate = next((g for g in _deciding(ask_if, states, U) if into.get(g, g) in at_stake and g != fid), None)
        if gate is not None:
            into[fid] = into.get(gate, gate)
            follow.setdefault(into[fid], []).append(fid)
    groups: dict[str, list[RedFlagResult]] = {}
    for fid, flags in at_stake.items():
        groups.setdefault(into.get(fid, fid), []).extend(flags)
    answered = screened(kb)
    items = []
    for fid, flags in groups.items():
        unique = list({f.flag: f for f in flags}.values())
        urgency = min((f.urgency for f in unique), key=URGENCY_RANK.__getitem__)
        q = questions[fid]
        items.append(
            ScreenQuestion(
                finding=fid,
                title=q.title,
                question=q.question,
                urgency=urgency,
                flags=tuple(FlagAtStake(f.flag, f.title, f.urgency) for f in unique),
                screened=fid in answered,
                then_ask=tuple(questions[f] for f in follow.get(fid, ())),
            )
        )
    items.sort(key=lambda q: (URGENCY_RANK[q.urgency], order.get(q.finding, len(order))))
    record = findings.derived.red_flag_screen
    negative = findings.derived.red_flag_screen_negative is P
    return Screen(
        open=tuple(items),
        negative=negative,
        recorded_by=record.by if record else None,
        recorded_at=record.at if record else None,
        stale=record is not None and not negative,
    )
