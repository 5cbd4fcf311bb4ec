"""Appropriateness (RAND/UCLA 1-9) of the four panel categories and of every specific option, each with its
reasons.

A score is built as: base -> the first matching `set` rule -> every matching `adjust` (rules, then
modifiers and relative contraindications) -> every matching cap (rules, absolute contraindications, an unmet
requirement, and for elective options the red-flag override) -> clamped to 1-9. Rules whose condition is still
unknown are reported as
pending: what is missing to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import Contraindication, PanelCategory, Requirement, Rule
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Expression
from fbss.reasoning.care_results import Basis, Item, Label, OptionRatings, Pending, Rating
from fbss.reasoning.concepts import CareStates, titles
from fbss.reasoning.logic import Compiled, compile_expression, leaves

P, A, U = Presence.present, Presence.absent, Presence.unknown

OPTION_BASIS = "expert estimate (the panel rated only the four categories)"
CATEGORY_BASIS = "expert estimate"
PATTERN_BASIS = "label reproduces a published panel pattern (Tronnier 2019); the number is an expert estimate"


@dataclass(frozen=True, slots=True)
class _Step:
    """One compiled rule: kind is 'set', 'adjust' or 'cap'."""

    id: str
    kind: str
    value: int
    when: Expression
    compiled: Compiled
    because: str
    evidence: Evidence
    sources: tuple[str, ...]
    pattern: bool


@dataclass(frozen=True, slots=True)
class _Rateable:
    id: str
    title: str
    category: PanelCategory
    elective: bool
    is_category: bool
    base: int
    requires: Requirement | None
    requires_compiled: Compiled | None
    steps: tuple[_Step, ...]  # in evaluation order: set rules, adjusts, caps


def _from_rule(rule: Rule) -> _Step:
    if rule.set is not None:
        kind, value = "set", rule.set
    elif rule.adjust is not None:
        kind, value = "adjust", rule.adjust
    else:
        assert rule.cap is not None
        kind, value = "cap", rule.cap
    return _Step(
        rule.id,
        kind,
        value,
        rule.when,
        compile_expression(rule.when),
        rule.because,
        rule.evidence,
        rule.sources,
        rule.pattern,
    )


def _from_contraindication(contra: Contraindication, relative_adjust: int) -> _Step:
    kind, value = ("cap", 1) if contra.absolute else ("adjust", relative_adjust)
    prefix = "Contraindication" if contra.absolute else "Relative contraindication"
    return _Step(
        contra.id,
        kind,
        value,
        contra.when,
        compile_expression(contra.when),
        f"{prefix}: {contra.reason}",
        contra.evidence,
        contra.sources,
        False,
    )


_ORDER = {"set": 0, "adjust": 1, "cap": 2}
RELATIVE_CONTRAINDICATION = -2


def _ordered(steps: list[_Step]) -> tuple[_Step, ...]:
    return tuple(sorted(steps, key=lambda s: _ORDER[s.kind]))  # stable: file order within a kind


@cache
def compiled_ratings(kb: KnowledgeBase) -> tuple[tuple[_Rateable, ...], tuple[_Rateable, ...]]:
    """Categories (in step order) and options, compiled once per knowledge base."""
    doc = kb.care.appropriateness
    modifiers = doc.modifiers
    categories = []
    for category in sorted(doc.categories, key=lambda c: c.step):
        steps = [_from_rule(r) for r in category.rules]
        steps += [_from_rule(m) for m in modifiers if category.id.value in m.applies_to]
        categories.append(
            _Rateable(
                id=category.id.value,
                title=category.title,
                category=category.id,
                elective=True,
                is_category=True,
                base=category.base,
                requires=category.requires,
                requires_compiled=compile_expression(category.requires.when) if category.requires else None,
                steps=_ordered(steps),
            )
        )
    options = []
    for option in kb.care.treatments:
        rating = option.rating
        steps = [_from_rule(r) for r in rating.rules]
        if option.elective:
            labels = {option.category.value, *option.tags}
            steps += [_from_rule(m) for m in modifiers if labels & set(m.applies_to)]
        contras = list(option.contraindications)
        if "scs" in option.tags:
            contras += list(kb.care.scs.contraindications)
        steps += [_from_contraindication(c, RELATIVE_CONTRAINDICATION) for c in contras]
        options.append(
            _Rateable(
                id=option.id,
                title=option.title,
                category=option.category,
                elective=option.elective,
                is_category=False,
                base=rating.base,
                requires=rating.requires,
                requires_compiled=compile_expression(rating.requires.when) if rating.requires else None,
                steps=_ordered(steps),
            )
        )
    return tuple(categories), tuple(options)


@cache
def items_by_id(kb: KnowledgeBase) -> dict[str, Item]:
    """One shared Item per finding and concept id."""
    return {i: Item(i, t) for i, t in titles(kb).items()}


def _items(ids: list[str], items: dict[str, Item]) -> tuple[Item, ...]:
    return tuple(items.get(i) or Item(i, i) for i in dict.fromkeys(ids))


def label_of(score: int, kb: KnowledgeBase) -> Label:
    scale = kb.care.appropriateness.scale
    if score >= scale.appropriate_from:
        return Label.appropriate
    if score <= scale.inappropriate_to:
        return Label.inappropriate
    return Label.uncertain


def _effect(step: _Step) -> str:
    if step.kind == "set":
        return f"set {step.value}"
    if step.kind == "cap":
        return f"cap {step.value}"
    return f"{step.value:+d}"


def _capped(score: int, caps: list[int]) -> int:
    """The score under its caps, kept within 1-9."""
    if caps:
        score = min(score, min(caps))
    return max(1, min(9, score))


def rate(item: _Rateable, care: CareStates, kb: KnowledgeBase) -> Rating:
    """Score one category or option for a case (pure).

    A rule still unknown is reported as pending only if, applied on its own, it would change the label: that
    is
    what is missing to decide.
    """
    states = care.states
    names = items_by_id(kb)
    doc = kb.care.appropriateness
    low = doc.scale.inappropriate_to
    because: list[Basis] = []
    unknown_steps: list[_Step] = []
    raw = item.base  # the score before caps
    adjusts = 0
    setter: _Step | None = None
    caps: list[int] = []
    for step in item.steps:
        if step.kind == "set" and setter is not None:
            continue
        state = step.compiled(states)
        if state is U:
            unknown_steps.append(step)
            continue
        if state is A:
            continue
        if step.kind == "set":
            setter = step
            raw = step.value
        elif step.kind == "adjust":
            adjusts += step.value
        else:
            caps.append(step.value)
        because.append(
            Basis(
                step.id,
                step.because,
                _effect(step),
                _items(leaves(step.when, states, P), names),
                step.evidence,
                step.sources,
                step.pattern,
            )
        )
    raw += adjusts
    requirement_unknown = False
    if item.requires is not None and item.requires_compiled is not None:
        caps_doc = doc.requirement_caps
        state = item.requires_compiled(states)
        if state is A:
            caps.append(caps_doc.absent_cap)
            because.append(
                Basis(
                    "requires",
                    f"{item.requires.because}: not there",
                    f"cap {caps_doc.absent_cap}",
                    _items(leaves(item.requires.when, states, A), names),
                    item.requires.evidence,
                    item.requires.sources,
                )
            )
        elif state is U:
            requirement_unknown = True
            because.append(
                Basis(
                    "requires",
                    f"{item.requires.because}: not yet shown",
                    f"cap {caps_doc.unknown_cap}",
                    (),
                    item.requires.evidence,
                    item.requires.sources,
                )
            )
    other_caps = list(caps)
    if requirement_unknown:
        caps.append(doc.requirement_caps.unknown_cap)
    flag_pending = False
    if item.elective:
        override = doc.red_flag_override
        if states["red_flag_fired"] is P:
            caps.append(override.absent_cap)
            because.append(
                Basis(
                    "red_flag_override",
                    override.because_absent,
                    f"cap {override.absent_cap}",
                    _items(["red_flag_fired"], names),
                    override.evidence,
                    override.sources,
                )
            )
        elif states["red_flag_pending"] is P:
            flag_pending = True
            caps.append(override.unknown_cap)
            other_caps.append(override.unknown_cap)
            because.append(
                Basis(
                    "red_flag_override",
                    override.because_unknown,
                    f"cap {override.unknown_cap}",
                    _items(["red_flag_pending"], names),
                    override.evidence,
                    override.sources,
                )
            )
    score = _capped(raw, caps)
    label = label_of(score, kb)
    pending: list[Pending] = []
    if not (caps and min(caps) <= low):  # a known low cap cannot be lifted by anything still unknown
        for step in unknown_steps:
            if step.kind == "set":
                alternative = _capped(step.value + adjusts, caps)
            elif step.kind == "adjust":
                alternative = _capped(raw + step.value, caps)
            else:
                alternative = min(score, step.value)
            if label_of(alternative, kb) is not label:
                pending.append(
                    Pending(step.id, step.because, _effect(step), _items(leaves(step.when, states, U), names))
                )
        if requirement_unknown and item.requires is not None:
            lifted = _capped(raw, other_caps)
            lowered = min(score, doc.requirement_caps.absent_cap)
            if label_of(lifted, kb) is not label or label_of(lowered, kb) is not label:
                pending.append(
                    Pending(
                        "requires",
                        item.requires.because,
                        f"cap {doc.requirement_caps.unknown_cap}",
                        _items(leaves(item.requires.when, states, U), names),
                    )
                )
        if flag_pending:
            pending.append(
                Pending(
                    "red_flag_override",
                    doc.red_flag_override.because_unknown,
                    f"cap {doc.red_flag_override.unknown_cap}",
                    _items(["red_flag_pending"], names),
                )
            )
    pattern = bool(setter and setter.pattern and label_of(setter.value, kb) is label)
    basis = (PATTERN_BASIS if pattern else CATEGORY_BASIS) if item.is_category else OPTION_BASIS
    return Rating(
        id=item.id,
        title=item.title,
        category=item.category,
        score=score,
        label=label,
        elective=item.elective,
        published_pattern=pattern,
        score_basis=basis,
        because=tuple(because),
        pending=tuple(pending),
    )


_STEP_OF = {
    PanelCategory.conservative: 1,
    PanelCategory.minimally_invasive: 2,
    PanelCategory.neurostimulation: 3,
    PanelCategory.reoperation: 4,
}


def appropriateness(care: CareStates, kb: KnowledgeBase) -> OptionRatings:
    """Rate the four panel categories and every option of the treatment catalogue (pure)."""
    categories, options = compiled_ratings(kb)
    rated = [rate(o, care, kb) for o in options]
    rated.sort(key=lambda r: (-r.score, _STEP_OF[r.category], r.id))
    return OptionRatings(categories=tuple(rate(c, care, kb) for c in categories), options=tuple(rated))
