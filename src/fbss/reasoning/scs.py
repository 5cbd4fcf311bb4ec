"""SCS candidacy: clinical appropriateness from the panel's drivers, the eight psychosocial factors, the
combined
advice, the contraindications that stop it, and the NICE TA159 criteria with what is missing to decide."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import AdviceLevel, Contraindication, PanelCategory
from fbss.reasoning.appropriateness import _from_rule, _ordered, _Rateable, rate
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


@cache
def _compiled(kb: KnowledgeBase) -> _Compiled:
    doc = kb.care.scs
    clinical = _Rateable(
        id="scs_clinical",
        title="SCS: clinical appropriateness",
        category=PanelCategory.neurostimulation,
        elective=False,
        is_category=False,
        base=doc.clinical.base,
        requires=doc.clinical.requires,
        requires_compiled=compile_expression(doc.clinical.requires.when) if doc.clinical.requires else None,
        steps=_ordered([_from_rule(r) for r in doc.clinical.rules]),
    )
    return _Compiled(
        clinical=clinical,
        factors=tuple(compile_expression(f.when) for f in doc.factors),
        contraindications=tuple((c, compile_expression(c.when)) for c in doc.contraindications),
        conditions=tuple((c, compile_expression(c.when)) for c in doc.conditions),
        nice=tuple(compile_expression(n.when) for n in doc.nice),
    )


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
    """Combine the clinical rating and the psychosocial factors into one advice level (pure)."""
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
        missing=tuple(missing),
    )
