"""Appropriateness (RAND/UCLA 1-9) of the four panel categories and of every specific option, with reasons.

A score is built as: base -> the first matching `set` rule -> every matching `adjust` (rules, then modifiers
and relative contraindications) -> every matching cap (rules, absolute contraindications, an unmet requirement,
and for elective options the red-flag override) -> clamped to 1-9. The override never caps an option a fired flag
names as its definitive action, nor one tagged `never_capped` (analgesia, psychological and psychiatric care):
those are rated on their own merits. Cautions are shown with the rating and change no score. A rule whose
condition is still unknown is reported as pending (what is missing to decide) when, applied on its own, it would
change the label.

Speed: rules are compiled once per knowledge base; an explanation (the items that decided a rule, or the ones it
still waits for) depends only on the states of the ids the rule names, so it is built once per combination of
those states and shared, as the rest of the engine does.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import Caution, Contraindication, PanelCategory, Requirement, Rule
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Expression, expression_ids, flag_concept
from fbss.reasoning.care_results import Basis, Item, Label, OptionRatings, Pending, Rating
from fbss.reasoning.concepts import CareStates, titles
from fbss.reasoning.logic import Compiled, States, compile_expression, leaves

P, A, U = Presence.present, Presence.absent, Presence.unknown

OPTION_BASIS = "expert estimate (the panel rated only the four categories)"
CATEGORY_BASIS = "expert estimate"
PATTERN_BASIS = "label reproduces a published panel pattern (Tronnier 2019); the number is an expert estimate"
RELATIVE_CONTRAINDICATION = -2
_MEMO_LIMIT = 2048  # explanations kept per rule; beyond it they are rebuilt each time
_ORDER = {"set": 0, "adjust": 1, "cap": 2, "caution": 3}


@dataclass(frozen=True, slots=True)
class _Step:
    """One compiled rule: kind is 'set', 'adjust', 'cap', 'caution' or 'requires'."""

    id: str
    kind: str
    value: int
    when: Expression
    compiled: Compiled
    because: str
    evidence: Evidence
    sources: tuple[str, ...]
    pattern: bool
    effect: str
    ids: tuple[str, ...]
    memo: dict[tuple[object, ...], object] = field(default_factory=dict, compare=False, hash=False)

    def key(self, states: States, want: Presence) -> tuple[object, ...]:
        return (want, *(states[i] for i in self.ids))


def _step(
    id_: str,
    kind: str,
    value: int,
    when: Expression,
    because: str,
    cited: Rule | Contraindication | Requirement | Caution,
    pattern: bool = False,
) -> _Step:
    effect = {"set": f"set {value}", "adjust": f"{value:+d}", "caution": "caution"}.get(kind, f"cap {value}")
    return _Step(
        id_,
        kind,
        value,
        when,
        compile_expression(when),
        because,
        cited.evidence,
        cited.sources,
        pattern,
        effect,
        tuple(dict.fromkeys(expression_ids(when))),
    )


def _from_rule(rule: Rule) -> _Step:
    if rule.set is not None:
        kind, value = "set", rule.set
    elif rule.adjust is not None:
        kind, value = "adjust", rule.adjust
    else:
        assert rule.cap is not None
        kind, value = "cap", rule.cap
    return _step(rule.id, kind, value, rule.when, rule.because, rule, rule.pattern)


def _from_contraindication(contra: Contraindication) -> _Step:
    kind, value = ("cap", 1) if contra.absolute else ("adjust", RELATIVE_CONTRAINDICATION)
    prefix = "Contraindication" if contra.absolute else "Relative contraindication"
    return _step(contra.id, kind, value, contra.when, f"{prefix}: {contra.reason}", contra)


def _from_caution(caution: Caution) -> _Step:
    return _step(caution.id, "caution", 0, caution.when, f"Caution: {caution.text}", caution)


@dataclass(frozen=True, slots=True)
class _Rateable:
    id: str
    title: str
    category: PanelCategory
    elective: bool
    is_category: bool
    base: int
    never_capped: bool  # a red flag never caps it (analgesia, psychological and psychiatric care)
    definitive_of: tuple[str, ...]  # concept ids of the flags whose definitive action it is: a fired one lifts the cap
    requires: _Step | None  # value: the cap when the requirement is absent
    steps: tuple[_Step, ...]  # in evaluation order: set rules, adjusts, caps
    ids: tuple[str, ...]  # every id the rating reads: its result depends on their states only
    key: Callable[[States], tuple[Presence, ...]]
    memo: dict[tuple[Presence, ...], Rating] = field(default_factory=dict, compare=False, hash=False)


def _requirement(requires: Requirement | None, kb: KnowledgeBase) -> _Step | None:
    if requires is None:
        return None
    cap = kb.care.appropriateness.requirement_caps.absent_cap
    return _step("requires", "requires", cap, requires.when, requires.because, requires)


def _ordered(steps: list[_Step]) -> tuple[_Step, ...]:
    return tuple(sorted(steps, key=lambda s: _ORDER[s.kind]))  # stable: file order within a kind


def rateable(
    id_: str,
    title: str,
    category: PanelCategory,
    elective: bool,
    is_category: bool,
    base: int,
    requires: Requirement | None,
    rules: list[Rule],
    contras: list[Contraindication],
    kb: KnowledgeBase,
    cautions: tuple[Caution, ...] = (),
    tags: tuple[str, ...] = (),
) -> _Rateable:
    """Compile one thing to rate (a category, an option, the SCS clinical rating)."""
    steps = [_from_rule(r) for r in rules] + [_from_contraindication(c) for c in contras]
    steps += [_from_caution(c) for c in cautions]
    requirement = _requirement(requires, kb)
    never_capped = bool(set(tags) & set(kb.care.appropriateness.red_flag_override.never_capped))
    definitive_of = () if is_category else tuple(flag_concept(f.id) for f in kb.red_flags if id_ in f.definitive)
    ids = [i for step in steps for i in step.ids] + (list(requirement.ids) if requirement else [])
    ids += ["red_flag_fired", "red_flag_pending", *definitive_of]
    unique = tuple(dict.fromkeys(ids))  # always two or more: the red-flag built-ins
    return _Rateable(
        id_,
        title,
        category,
        elective,
        is_category,
        base,
        never_capped,
        definitive_of,
        requirement,
        _ordered(steps),
        unique,
        operator.itemgetter(*unique),
    )


@cache
def compiled_ratings(kb: KnowledgeBase) -> tuple[tuple[_Rateable, ...], tuple[_Rateable, ...]]:
    """Categories (in step order) and options, compiled once per knowledge base."""
    doc = kb.care.appropriateness
    modifiers = doc.modifiers
    categories = [
        rateable(
            c.id.value,
            c.title,
            c.id,
            True,
            True,
            c.base,
            c.requires,
            [*c.rules, *(m for m in modifiers if c.id.value in m.applies_to)],
            [],
            kb,
        )
        for c in sorted(doc.categories, key=lambda c: c.step)
    ]
    options = []
    for option in kb.care.treatments:
        rules = list(option.rating.rules)
        if option.elective:
            labels = {option.category.value, *option.tags}
            rules += [m for m in modifiers if labels & set(m.applies_to)]
        contras = list(option.contraindications)
        if "scs" in option.tags:
            contras += list(kb.care.scs.contraindications)
        cautions = list(option.cautions)
        if option.elective:
            cautions += [c for c in doc.cautions if {option.category.value, *option.tags} & set(c.applies_to)]
        options.append(
            rateable(
                option.id,
                option.title,
                option.category,
                option.elective,
                False,
                option.rating.base,
                option.rating.requires,
                rules,
                contras,
                kb,
                tuple(cautions),
                option.tags,
            )
        )
    return tuple(categories), tuple(options)


@cache
def items_by_id(kb: KnowledgeBase) -> dict[str, Item]:
    """One shared Item per finding and concept id."""
    return {i: Item(i, t) for i, t in titles(kb).items()}


def _items(ids: list[str], items: dict[str, Item]) -> tuple[Item, ...]:
    return tuple(items.get(i) or Item(i, i) for i in dict.fromkeys(ids))


@cache
def _labels(kb: KnowledgeBase) -> tuple[Label, ...]:
    """Label by score, index 0-9."""
    scale = kb.care.appropriateness.scale
    return tuple(
        Label.appropriate
        if s >= scale.appropriate_from
        else Label.inappropriate
        if s <= scale.inappropriate_to
        else Label.uncertain
        for s in range(10)
    )


def label_of(score: int, kb: KnowledgeBase) -> Label:
    return _labels(kb)[score]


@dataclass(frozen=True, slots=True)
class _Fixed:
    """Explanation values that do not depend on the case."""

    flag_fired: Basis
    flag_pending: Basis
    flag_pending_open: Pending
    requires_unknown_cap: int


@cache
def _fixed(kb: KnowledgeBase) -> _Fixed:
    doc = kb.care.appropriateness
    o = doc.red_flag_override
    names = items_by_id(kb)
    return _Fixed(
        Basis(
            "red_flag_override",
            o.because_absent,
            f"cap {o.absent_cap}",
            _items(["red_flag_fired"], names),
            o.evidence,
            o.sources,
        ),
        Basis(
            "red_flag_override",
            o.because_unknown,
            f"cap {o.unknown_cap}",
            _items(["red_flag_pending"], names),
            o.evidence,
            o.sources,
        ),
        Pending("red_flag_override", o.because_unknown, f"cap {o.unknown_cap}", _items(["red_flag_pending"], names)),
        doc.requirement_caps.unknown_cap,
    )


def _basis(step: _Step, states: States, want: Presence, kb: KnowledgeBase) -> Basis:
    key = step.key(states, want)
    found = step.memo.get(key)
    if found is None:
        decided = _items(leaves(step.when, states, want), items_by_id(kb))
        because, effect = step.because, step.effect
        if step.kind == "requires":
            because = f"{because}: {'not there' if want is A else 'not yet shown'}"
            effect = f"cap {step.value if want is A else _fixed(kb).requires_unknown_cap}"
            decided = () if want is U else decided
        found = Basis(step.id, because, effect, decided, step.evidence, step.sources, step.pattern)
        if len(step.memo) < _MEMO_LIMIT:
            step.memo[key] = found
    assert isinstance(found, Basis)
    return found


def _pending(step: _Step, states: States, kb: KnowledgeBase) -> Pending:
    key = ("pending", *step.key(states, U))
    found = step.memo.get(key)
    if found is None:
        effect = f"cap {_fixed(kb).requires_unknown_cap}" if step.kind == "requires" else step.effect
        found = Pending(step.id, step.because, effect, _items(leaves(step.when, states, U), items_by_id(kb)))
        if len(step.memo) < _MEMO_LIMIT:
            step.memo[key] = found
    assert isinstance(found, Pending)
    return found


def _capped(score: int, caps: list[int]) -> int:
    """The score under its caps, kept within 1-9."""
    if caps:
        score = min(score, min(caps))
    return 1 if score < 1 else 9 if score > 9 else score


def rate(item: _Rateable, care: CareStates, kb: KnowledgeBase) -> Rating:
    """Score one category or option for a case (pure; memoised on the states of the ids it reads)."""
    states = care.states
    key = item.key(states)
    found = item.memo.get(key)
    if found is None:
        found = _rate(item, states, kb)
        if len(item.memo) < _MEMO_LIMIT:
            item.memo[key] = found
    return found


def _rate(item: _Rateable, states: States, kb: KnowledgeBase) -> Rating:
    labels = _labels(kb)
    fixed = _fixed(kb)
    low = kb.care.appropriateness.scale.inappropriate_to
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
        if step.kind == "caution":
            if state is P:
                because.append(_basis(step, states, P, kb))
            continue
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
        because.append(_basis(step, states, P, kb))
    raw += adjusts
    requirement_unknown = False
    requires = item.requires
    if requires is not None:
        state = requires.compiled(states)
        if state is A:
            caps.append(requires.value)
            because.append(_basis(requires, states, A, kb))
        elif state is U:
            requirement_unknown = True
            because.append(_basis(requires, states, U, kb))
    other_caps = list(caps)
    if requirement_unknown:
        caps.append(fixed.requires_unknown_cap)
    flag_pending = False
    if item.elective and not item.never_capped and not any(states[c] is P for c in item.definitive_of):
        override = kb.care.appropriateness.red_flag_override
        if states["red_flag_fired"] is P:
            caps.append(override.absent_cap)
            because.append(fixed.flag_fired)
        elif states["red_flag_pending"] is P:
            flag_pending = True
            caps.append(override.unknown_cap)
            other_caps.append(override.unknown_cap)
            because.append(fixed.flag_pending)
    score = _capped(raw, caps)
    label = labels[score]
    pending: list[Pending] = []
    if not (caps and min(caps) <= low):  # a known low cap cannot be lifted by anything still unknown
        for step in unknown_steps:
            if step.kind == "set":
                alternative = _capped(step.value + adjusts, caps)
            elif step.kind == "adjust":
                alternative = _capped(raw + step.value, caps)
            else:
                alternative = min(score, step.value)
            if labels[alternative] is not label:
                pending.append(_pending(step, states, kb))
        if requirement_unknown and requires is not None:
            lifted = _capped(raw, other_caps)
            lowered = min(score, requires.value)
            if labels[lifted] is not label or labels[lowered] is not label:
                pending.append(_pending(requires, states, kb))
        if flag_pending:
            pending.append(fixed.flag_pending_open)
    pattern = bool(setter and setter.pattern and labels[setter.value] is label)
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


def _called_for(category: Rating, called: list[Rating], flags: tuple[Item, ...], kb: KnowledgeBase) -> Rating:
    """A category whose care a fired red flag calls for is rated with that care, not by the elective rules: an
    emergency evacuation must not sit under a re-operation rated "no anatomic target"."""
    best = max(called, key=lambda r: r.score)
    named = " or ".join(r.title[0].lower() + r.title[1:] for r in called if r.score == best.score)
    o = kb.care.appropriateness.red_flag_override
    because = Basis(
        "red_flag_definitive",
        o.because_definitive.format(option=named),
        f"set {best.score}",
        flags,
        o.evidence,
        o.sources,
    )
    return Rating(
        id=category.id,
        title=category.title,
        category=category.category,
        score=best.score,
        label=best.label,
        elective=category.elective,
        published_pattern=False,
        score_basis=CATEGORY_BASIS,
        because=(because,),
        pending=best.pending,
    )


def appropriateness(care: CareStates, kb: KnowledgeBase) -> OptionRatings:
    """Rate the four panel categories and every option of the treatment catalogue (pure). A category holding the
    definitive care of a fired red flag (not rated inappropriate) is rated with that care."""
    categories, options = compiled_ratings(kb)
    states = care.states
    rated = [rate(o, care, kb) for o in options]
    called: dict[PanelCategory, list[Rating]] = {}
    fired: dict[str, None] = {}
    for item, rating in zip(options, rated, strict=True):
        flags = [c for c in item.definitive_of if states[c] is P]
        if flags and rating.label is not Label.inappropriate:
            called.setdefault(item.category, []).append(rating)
            fired.update(dict.fromkeys(flags))
    flag_items = _items(list(fired), items_by_id(kb))
    rated_categories = tuple(
        _called_for(r, called[r.category], flag_items, kb) if r.category in called else r
        for r in (rate(c, care, kb) for c in categories)
    )
    rated.sort(key=lambda r: (-r.score, _STEP_OF[r.category], r.id))
    return OptionRatings(categories=rated_categories, options=tuple(rated))
