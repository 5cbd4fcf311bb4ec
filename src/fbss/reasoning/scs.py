"""SCS candidacy: clinical appropriateness from the panel's drivers, the eight psychosocial factors, the
combined
advice, the contraindications that stop it, and the NICE TA159 criteria with what is missing to decide."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import ADVICE_RANK, AdviceLevel, Contraindication, PanelCategory, ScsDoc
from fbss.knowledge.models import expression_ids
from fbss.reasoning.appropriateness import _Rateable, rate, rateable
from fbss.reasoning.care_results import Basis, FactorState, Item, Label, NiceCheck, ScsAdvice, Statement
from fbss.reasoning.concepts import CareStates, questions, titles
from fbss.reasoning.logic import Compiled, compile_expression, leaves

P, A, U = Presence.present, Presence.absent, Presence.unknown


@dataclass(frozen=True, slots=True)
class _Compiled:
    clinical: _Rateable
    factors: tuple[Compiled, ...]
    contraindications: tuple[tuple[Contraindication, Compiled], ...]
    conditions: tuple[tuple[Contraindication, Compiled], ...]
    nice: tuple[Compiled, ...]
    gates: tuple[Compiled, ...]
    key: Callable[[dict[str, Presence]], tuple[Presence, ...]]  # the states the advice depends on
    memo: dict[tuple[Presence, ...], ScsAdvice] = field(default_factory=dict, compare=False, hash=False)


@cache
def _compiled(kb: KnowledgeBase) -> _Compiled:
    doc = kb.care.scs
    clinical = rateable(
        "scs_clinical",
        "SCS: clinical appropriateness",
        PanelCategory.neurostimulation,
        elective=False,
        is_category=False,
        base=doc.clinical.base,
        requires=doc.clinical.requires,
        rules=list(doc.clinical.rules),
        contras=[],
        kb=kb,
    )
    return _Compiled(
        clinical=clinical,
        factors=tuple(compile_expression(f.when) for f in doc.factors),
        contraindications=tuple((c, compile_expression(c.when)) for c in doc.contraindications),
        conditions=tuple((c, compile_expression(c.when)) for c in doc.conditions),
        nice=tuple(compile_expression(n.when) for n in doc.nice),
        gates=tuple(compile_expression(g.when) for g in doc.gates),
        key=operator.itemgetter(*_ids(doc, clinical)),
    )


def _ids(doc: ScsDoc, clinical: _Rateable) -> tuple[str, ...]:
    exprs = [f.when for f in doc.factors] + [c.when for c in (*doc.contraindications, *doc.conditions)]
    exprs += [n.when for n in doc.nice] + [g.when for g in doc.gates]
    return tuple(dict.fromkeys([*clinical.ids, *(i for e in exprs for i in expression_ids(e))]))


def advice_for(label: Label, present: int, kb: KnowledgeBase) -> AdviceLevel:
    """The advice for a clinical label and a number of psychosocial factors (the last entry repeats)."""
    row = getattr(kb.care.scs.advice, label.value)
    return row[min(present, len(row) - 1)]  # type: ignore[no-any-return]


def _basis(contra: Contraindication, states: dict[str, Presence], want: Presence, kb: KnowledgeBase) -> Basis:
    names = titles(kb)
    decided = tuple(dict.fromkeys(leaves(contra.when, states, want)))
    return Basis(
        contra.id,
        contra.reason,
        "stops advice" if contra.absolute else "condition",
        tuple(Item(i, names.get(i, i)) for i in decided),
        contra.evidence,
        contra.sources,
    )


def scs_advice(care: CareStates, kb: KnowledgeBase) -> ScsAdvice:
    """Combine the clinical rating and the psychosocial factors into one advice level (pure; memoised on the
    states of the ids it reads)."""
    compiled = _compiled(kb)
    key = compiled.key(care.states)
    found = compiled.memo.get(key)
    if found is None:
        found = _advice(care, kb)
        if len(compiled.memo) < 2048:
            compiled.memo[key] = found
    return found


def _advice(care: CareStates, kb: KnowledgeBase) -> ScsAdvice:
    doc = kb.care.scs
    compiled = _compiled(kb)
    states = care.states
    # the clinical rating is not capped by red flags here: a red flag stops the advice as a contraindication
    clinical = rate(compiled.clinical, care, kb)
    factors = tuple(
        FactorState(f.id, f.title, fn(states), f.evidence, f.sources)
        for f, fn in zip(doc.factors, compiled.factors, strict=True)
    )
    present = sum(1 for f in factors if f.state is P)
    unknown = sum(1 for f in factors if f.state is U)
    stopped = tuple(_basis(c, states, P, kb) for c, fn in compiled.contraindications if fn(states) is P)
    to_check = tuple(_basis(c, states, U, kb) for c, fn in compiled.contraindications if fn(states) is U)
    conditions = tuple(_basis(c, states, P, kb) for c, fn in compiled.conditions if fn(states) is P)
    advice = None if stopped else advice_for(clinical.label, present, kb)
    worst = None if stopped else advice_for(clinical.label, present + unknown, kb)
    advice, worst, held_back, provisional_of = _gated(advice, worst, unknown, states, compiled, kb)

    asks = questions(kb)
    nice: list[NiceCheck] = []
    for criterion, fn in zip(doc.nice, compiled.nice, strict=True):
        state = fn(states)
        nice.append(
            NiceCheck(
                criterion.id,
                criterion.title,
                state,
                criterion.how,
                criterion.missing if state is not P else None,
                criterion.sources,
            )
        )
    nice_states = [n.state for n in nice]
    nice_met = A if A in nice_states else U if U in nice_states else P

    missing: list[str] = [f"Resolve first: {b.because.lower()}" for b in stopped]
    gate_missing = {g.id: g.missing for g in doc.gates}
    missing += [gate_missing[b.rule] for b in held_back if b.effect == "provisional"]
    for basis in () if stopped else to_check:
        missing.append(f"Check: {basis.because.lower()}")
    if unknown and not stopped:
        names = ", ".join(f.title.lower() for f in factors if f.state is U)
        missing.append(f"Psychosocial factors not yet assessed: {names}")
    for pend in () if stopped else clinical.pending:
        for item in pend.missing:
            text = asks.get(item.id, item.title)
            if text not in missing:
                missing.append(text)
    if not stopped:
        missing += [n.missing for n in nice if n.missing and n.state is U and n.missing not in missing]
    table = doc.advice
    return ScsAdvice(
        clinical=clinical,
        factors=factors,
        factors_present=present,
        factors_unknown=unknown,
        advice=advice,
        advice_if_unknowns_present=worst,
        advice_basis=Statement(table.note or "expert estimate", table.evidence, table.sources),
        stopped_by=stopped,
        to_check=to_check,
        conditions=conditions,
        nice=tuple(nice),
        nice_met=nice_met,
        missing=tuple(dict.fromkeys(missing)),
        held_back=held_back,
        provisional_of=provisional_of,
    )


_RECOMMENDING = (AdviceLevel.strongly_recommended, AdviceLevel.recommended)


def _gated(
    advice: AdviceLevel | None,
    worst: AdviceLevel | None,
    unknown_factors: int,
    states: dict[str, Presence],
    compiled: _Compiled,
    kb: KnowledgeBase,
) -> tuple[AdviceLevel | None, AdviceLevel | None, tuple[Basis, ...], AdviceLevel | None]:
    """Apply the gates: one that does not hold caps the advice; a recommendation with a gate or a psychosocial
    factor still unknown is provisional (assess first) and says what it would be once they are assessed."""
    if advice is None:
        return None, None, (), None
    names = titles(kb)
    held: list[Basis] = []
    open_gate = False
    for gate, fn in zip(kb.care.scs.gates, compiled.gates, strict=True):
        state = fn(states)
        if state is P:
            continue
        decided = tuple(dict.fromkeys(leaves(gate.when, states, state)))
        if state is A:
            if ADVICE_RANK[advice] < ADVICE_RANK[gate.absent_cap]:
                advice = gate.absent_cap
            if worst is not None and ADVICE_RANK[worst] < ADVICE_RANK[gate.absent_cap]:
                worst = gate.absent_cap
            effect, because = f"cap {gate.absent_cap.value}", gate.because
        else:
            open_gate = True
            effect, because = "provisional", f"{gate.title}: not yet known"
        held.append(
            Basis(
                gate.id, because, effect, tuple(Item(i, names.get(i, i)) for i in decided), gate.evidence, gate.sources
            )
        )
    if advice in _RECOMMENDING and (open_gate or unknown_factors):
        return AdviceLevel.provisional, worst, tuple(held), advice
    return advice, worst, tuple(held), None
