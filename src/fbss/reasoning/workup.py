"""The work-up planner: tests a red flag calls for first (those whose result is already in the case are shown,
not ordered again), then the rest ranked by value of information per burden.

Value of a test (docs/workup-and-appropriateness.md): for each leading cause, the probability if the
result goes for the cause (p_hi) or against it (p_lo), from the likelihood ratios of the findings the test
reveals; the expected change is p x (p_hi - p) + (1 - p) x (p - p_lo). Summed over the leading causes, plus a
weight for each undecided decision point (a pending rating rule, an SCS factor or criterion, a likely-cause
threshold the result could cross). A test that settles no decision point is not suggested: its result could not
change management.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from fbss.case.model import Presence
from fbss.case.values import value_text
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import ConceptKind, TestDef
from fbss.knowledge.models import expression_ids
from fbss.reasoning.acting_order import acting_rank
from fbss.reasoning.care_results import (
    CauseShift,
    Item,
    Label,
    OptionRatings,
    Rating,
    RecordedResult,
    ScsAdvice,
    SetAside,
    Statement,
    TestSuggestion,
    Workup,
)
from fbss.reasoning.concepts import CareStates, compiled_concepts, titles
from fbss.reasoning.findings import finding_order
from fbss.reasoning.likely_emergency import urgent_tests
from fbss.reasoning.logic import Compiled, compile_expression, leaves
from fbss.reasoning.results import Differential, Triage

P, A, U = Presence.present, Presence.absent, Presence.unknown


@dataclass(frozen=True, slots=True)
class _Test:
    test: TestDef
    findings: tuple[str, ...]  # revealed findings and the expression findings built on them
    read: Callable[[dict[str, Presence]], tuple[Presence, ...]]  # the states of `findings`, in order
    groups: dict[str, tuple[tuple[str, int, float, float], ...]]  # cause -> (finding, evidence group, for, against)
    reach: dict[str, tuple[float, float]]  # cause -> the most its findings could move its log-odds up, down
    contraindications: tuple[Compiled, ...]
    timing: tuple[Compiled, ...]
    urgent_if: Compiled | None
    applies_if: Compiled | None
    burden: float
    concepts: tuple[tuple[str, tuple[str, ...], float], ...]  # concepts it can move: their causes and threshold


@dataclass(frozen=True, slots=True)
class _Compiled:
    tests: dict[str, _Test]
    expansions: dict[str, tuple[str, ...]]  # finding or concept id -> the expression it stands for (ids it reads)


def _not_shown(lr_present: float, lr_absent: float, sensitivity: float) -> float:
    """ln LR of 'the test was done and did not show the finding', as the differential reads a study that was done:
    (1 - a s) / (1 - b s) with a = P(finding | cause), b = P(finding | other causes) from the two ratios."""
    if sensitivity <= 0.0:
        return 0.0
    if sensitivity >= 1.0 or lr_present == lr_absent:
        return math.log(lr_absent)
    b = (1.0 - lr_absent) / (lr_present - lr_absent)
    if not 0.0 < b < 1.0:
        return math.log(lr_absent)
    a = min(lr_present * b, 1.0)
    return math.log((1.0 - a * sensitivity) / (1.0 - b * sensitivity))


@cache
def _compiled(kb: KnowledgeBase) -> _Compiled:
    weights = kb.care.tests.weights
    group_of: dict[str, int] = {}
    for position, group in enumerate(kb.differential.evidence_groups):
        for fid in group.findings:
            group_of[fid] = position
    sensitivity: dict[str, dict[str, float]] = {}
    for entry in kb.sensitivities:
        sensitivity.setdefault(entry.finding, {})[entry.modality] = entry.sensitivity
    links: dict[str, list[tuple[str, float, float]]] = {}
    for cause in kb.causes:
        for link in cause.links:
            links.setdefault(link.finding, []).append((cause.id, link.lr_present, link.lr_absent))
    readers: dict[str, set[str]] = {}  # finding -> expression findings that read it (directly)
    for fid in finding_order(kb):
        expression = kb.findings[fid].expression
        if expression is not None:
            for child in expression_ids(expression):
                readers.setdefault(child, set()).add(fid)
    cause_concepts = tuple(
        (c.id, c.causes, c.threshold) for c in compiled_concepts(kb) if c.kind is not ConceptKind.expression
    )
    tests: dict[str, _Test] = {}
    for test in kb.care.tests.tests:
        closure: list[str] = []
        todo = list(test.reveals)
        while todo:
            fid = todo.pop(0)
            if fid in closure:
                continue
            closure.append(fid)
            todo += sorted(readers.get(fid, ()))
        # a finding the study is known to miss at times says less when not shown (study_sensitivity.yaml); one with
        # no sensitivity recorded for any study is taken as the catalogue states it: shown when present
        study = test.study or test.modality
        by_cause: dict[str, list[tuple[str, int, float, float]]] = {}
        for fid in closure:
            known = sensitivity.get(fid)
            s = 1.0 if known is None or study is None else known.get(study, 0.0)
            for cause_id, lr_p, lr_a in links.get(fid, ()):
                lnp, against = math.log(lr_p), _not_shown(lr_p, lr_a, s)
                by_cause.setdefault(cause_id, []).append(
                    (fid, group_of.get(fid, -1), max(lnp, against), min(lnp, against))
                )
        b = test.burden
        tests[test.id] = _Test(
            test=test,
            findings=tuple(closure),
            read=_getter(tuple(closure)),
            groups={c: tuple(v) for c, v in by_cause.items()},
            reach={
                c: (sum(max(up, 0.0) for _, _, up, _ in v), sum(min(down, 0.0) for _, _, _, down in v))
                for c, v in by_cause.items()
            },
            contraindications=tuple(compile_expression(c.when) for c in test.contraindications),
            timing=tuple(compile_expression(t.when) for t in test.timing),
            urgent_if=compile_expression(test.urgent_if) if test.urgent_if is not None else None,
            applies_if=compile_expression(test.applies_if) if test.applies_if is not None else None,
            burden=1 + weights.invasiveness * b.invasiveness + weights.radiation * b.radiation + weights.cost * b.cost,
            concepts=tuple(c for c in cause_concepts if set(c[1]) & set(by_cause)),
        )
    expansions: dict[str, tuple[str, ...]] = {}
    for fid, finding in kb.findings.items():
        if finding.expression is not None:
            expansions[fid] = tuple(expression_ids(finding.expression))
    for concept in kb.care.appropriateness.concepts:
        source = concept.shown_by if concept.kind is ConceptKind.target else concept.expression
        if source is not None:
            expansions[concept.id] = tuple(expression_ids(source))
    return _Compiled(tests=tests, expansions=expansions)


def _getter(ids: tuple[str, ...]) -> Callable[[dict[str, Presence]], tuple[Presence, ...]]:
    if len(ids) == 1:
        only = ids[0]
        return lambda states: (states[only],)
    if not ids:
        return lambda states: ()
    return operator.itemgetter(*ids)


@cache
def _cause_concepts(kb: KnowledgeBase) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((c.id, c.causes) for c in compiled_concepts(kb) if c.kind is not ConceptKind.expression)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _decision_points(
    ratings: OptionRatings, scs: ScsAdvice, care: CareStates, compiled: _Compiled, kb: KnowledgeBase
) -> dict[str, list[Item]]:
    """Unknown base finding -> the undecided decision points whose outcome it could change."""
    states = care.states
    points: dict[str, list[Item]] = {}

    memo: dict[str, frozenset[str]] = {}

    def expand(item_id: str) -> frozenset[str]:
        """The unknown base findings behind an unknown finding or concept (expressions are acyclic)."""
        found = memo.get(item_id)
        if found is None:
            if item_id not in compiled.expansions:
                found = frozenset((item_id,)) if states.get(item_id) is U else frozenset()
            else:
                found = frozenset().union(*(expand(c) for c in compiled.expansions[item_id] if states.get(c) is U))
            memo[item_id] = found
        return found

    def add(point: Item, ids: list[str]) -> None:
        for base in frozenset().union(*(expand(i) for i in ids)):
            points.setdefault(base, []).append(point)

    contraindication_ids = _contraindication_ids(kb)
    # urgent options (haematoma, infection, CSF leak) are driven by the red flags, not by the elective work-up
    rated: list[Rating] = [*ratings.categories, *(r for r in ratings.options if r.elective)]
    if scs.advice is not None:
        rated.append(scs.clinical)
    for rating in rated:
        for pend in rating.pending:
            if pend.rule in contraindication_ids or pend.rule == "red_flag_override":
                continue  # checked at the bedside ("check first"), or answered by the red-flag questions
            add(
                Item(f"{rating.id}:{pend.rule}", f"{rating.title}: {pend.because}"),
                [m.id for m in pend.missing],
            )
    if scs.advice is not None and scs.clinical.label is not Label.inappropriate:
        for factor, state in zip(kb.care.scs.factors, scs.factors, strict=True):
            if state.state is U:
                add(
                    Item(f"scs_factor:{factor.id}", f"SCS advice: {factor.title.lower()}"),
                    leaves(factor.when, states, U),
                )
        for basis in scs.to_check:
            add(
                Item(f"scs_contra:{basis.rule}", f"SCS: {basis.because.lower()}"),
                [i.id for i in basis.decided_by],
            )
        for criterion, check in zip(kb.care.scs.nice, scs.nice, strict=True):
            if check.state is U:
                add(
                    Item(f"nice:{criterion.id}", f"NICE TA159: {criterion.title.lower()}"),
                    leaves(criterion.when, states, U),
                )
    return points


@cache
def _contraindication_ids(kb: KnowledgeBase) -> frozenset[str]:
    ids = {c.id for t in kb.care.treatments for c in t.contraindications}
    return frozenset(ids | {c.id for c in kb.care.scs.contraindications})


def _swing(
    base: float, states: dict[str, Presence], links: tuple[tuple[str, int, float, float], ...]
) -> tuple[float, float] | None:
    """The probability of a cause if every unknown finding the test reveals went for it, and against it.

    As in the differential, an evidence group counts once (its strongest finding for, its strongest against), and a
    finding the test can miss counts against the cause only as much as 'not shown' says.
    """
    up = down = 0.0
    best: dict[int, float] = {}
    worst: dict[int, float] = {}
    for fid, group, for_cause, against in links:
        if states[fid] is U:
            if group < 0:
                up += for_cause
                down += against
            else:
                best[group] = max(best.get(group, 0.0), for_cause)
                worst[group] = min(worst.get(group, 0.0), against)
    up += sum(best.values())
    down += sum(worst.values())
    if up == 0.0 and down == 0.0:
        return None
    return _sigmoid(base + up), _sigmoid(base + down)


def _cautions(t: _Test, states: dict[str, Presence], urgent: bool) -> list[Statement]:
    test = t.test
    out: list[Statement] = []
    for contra, fn in zip(test.contraindications, t.contraindications, strict=True):
        state = fn(states)
        if state is P and not contra.absolute:
            out.append(Statement(f"Relative contraindication: {contra.reason}", contra.evidence, contra.sources))
        elif state is U:
            out.append(Statement(f"Check first: {contra.reason}", contra.evidence, contra.sources))
    if not urgent:
        for timing, fn in zip(test.timing, t.timing, strict=True):
            state = fn(states)
            if timing.action == "caution" and state is P:
                out.append(Statement(timing.reason, timing.evidence, timing.sources))
            elif state is U:
                out.append(Statement(f"Check the timing: {timing.reason}", timing.evidence, timing.sources))
    if test.interpretation is not None:
        i = test.interpretation
        out.append(Statement(i.text, i.evidence, i.sources))
    return out


def _contraindicated(t: _Test, states: dict[str, Presence]) -> tuple[str, str | None, tuple[str, ...]] | None:
    for contra, fn in zip(t.test.contraindications, t.contraindications, strict=True):
        if contra.absolute and fn(states) is P:
            return contra.reason, contra.alternative, contra.sources
    return None


def _accuracy(test: TestDef) -> Statement | None:
    a = test.accuracy
    return None if a is None else Statement(a.text, a.evidence, a.sources)


def _suggestion(
    t: _Test,
    rank: int,
    urgent: bool,
    flags: tuple[str, ...],
    value: float,
    why: str,
    shifts: tuple[CauseShift, ...],
    settles: tuple[Item, ...],
    states: dict[str, Presence],
    replaces: str | None,
) -> TestSuggestion:
    test = t.test
    return TestSuggestion(
        test=test.id,
        title=test.title,
        kind=test.kind,
        rank=rank,
        urgent=urgent,
        for_flags=flags,
        value=value,
        burden=t.burden,
        score=value / t.burden,
        why=why,
        shifts=shifts,
        settles=settles,
        separates=test.separates,
        accuracy=_accuracy(test),
        cautions=tuple(_cautions(t, states, urgent)),
        decision_point=(test.urgent_decision_point or test.decision_point) if urgent else test.decision_point,
        replaces=replaces,
    )


def _phrase(fid: str, care: CareStates, kb: KnowledgeBase, shown: str | None = None) -> str:
    """'CRP above 10 mg/L (92 mg/L)', 'Post-void residual above 200 mL: no (60 mL)': a finding with its recorded
    value in its unit, or where the study in question showed it ('Broken rod (L4-L5, left, CT)' for the CT, not the
    plain film)."""
    seen = shown or care.observed.get(fid)
    finding = kb.findings.get(fid)
    value = f" ({value_text(seen, finding.value_source if finding else None)})" if seen is not None else ""
    return titles(kb).get(fid, fid) + (": no" if care.states.get(fid) is A else "") + value


def _results(fids: list[str], care: CareStates, kb: KnowledgeBase) -> str:
    """What a test showed: its findings that are recorded, those present first."""
    known = [f for f in fids if care.states[f] is not U]
    known.sort(key=lambda f: care.states[f] is not P)
    return "; ".join(_phrase(f, care, kb) for f in known)


def _recorded(t: _Test, shown: set[str], care: CareStates, kb: KnowledgeBase) -> str | None:
    """The result of an urgent test already in the case, or None when it still has to be done.

    Done when it revealed what fired a flag (the scan that showed the haematoma, a post-void residual of 650 mL;
    for imaging, only if a study of its own kind showed it: a rod broken on plain films still needs its CT); for
    imaging of the spine, when a study of its kind was done at this visit (imaging elsewhere, never: a study's body
    region is not recorded); otherwise when every finding it reveals is known.
    """
    names = titles(kb)
    states = care.states
    test = t.test
    # imaging reports what it showed; a bedside or laboratory test every value it gave
    present = [f for f in test.reveals if states[f] is P]
    on = {f: _shown(f, test.modality, care, kb) for f in present} if test.modality else {}
    report = (
        "; ".join(_phrase(f, care, kb, on[f]) for f in present)
        if test.modality
        else _results(list(test.reveals), care, kb)
    )
    triggers = [f for f in t.findings if f in shown]
    if triggers and (test.modality is None or any(_shown(f, test.modality, care, kb) for f in triggers)):
        return report or "; ".join(names.get(f, f) for f in triggers)
    if test.modality is not None:
        if not test.of_the_spine:  # elsewhere: done only if a study of its kind showed one of its findings
            return "; ".join(_phrase(f, care, kb, on[f]) for f in present if on[f]) or None
        if test.modality not in care.study_days:
            return None
        days = care.study_days[test.modality]
        if days is not None and days > kb.care.tests.recorded_within.days:
            return None  # an older study does not answer a flag raised now
        return report or "done: none of the findings it looks for is present"
    if test.reveals and all(states[f] is not U for f in test.reveals):
        return _results(list(test.reveals), care, kb)
    return None


def _shown(fid: str, modality: str | None, care: CareStates, kb: KnowledgeBase) -> str | None:
    """Where a study of this kind showed a finding ('L4-L5 left ct'); None if none did (a clinical sign or a lab
    value is never shown by a study)."""
    diagnostic = kb.findings[fid].diagnostic
    if diagnostic is None or modality is None:
        return None
    return care.seen_on.get(str(diagnostic), {}).get(modality)


def _urgent(
    triage: Triage, compiled: _Compiled, care: CareStates, ratings: OptionRatings, kb: KnowledgeBase
) -> tuple[list[TestSuggestion], list[RecordedResult]]:
    states = care.states
    fired = [f.flag for f in triage.fired]
    shown = {t.finding for f in triage.fired for t in f.fired_by}
    chosen: dict[str, tuple[list[str], str | None]] = {}
    likely = urgent_tests(kb)
    recorded: dict[str, tuple[list[str], str]] = {}
    for t in compiled.tests.values():
        calls = (*t.test.urgent_for, *likely.get(t.test.id, ()))
        flags = [f for f in fired if f in calls]
        if not flags or (t.urgent_if is not None and t.urgent_if(states) is A):
            continue
        found = _recorded(t, shown, care, kb)
        if found is not None:
            recorded[t.test.id] = (flags, found)
            continue
        current, replaces = t, None
        for _ in range(3):  # follow alternatives: gadolinium MRI -> plain MRI -> CT myelography
            blocked = _contraindicated(current, states)
            if blocked is None or blocked[1] is None:
                break
            current, replaces = compiled.tests[blocked[1]], t.test.id
        if _contraindicated(current, states) is not None:
            continue
        if current is not t and (found := _recorded(current, shown, care, kb)) is not None:
            recorded.setdefault(current.test.id, ([], found))[0].extend(flags)
            continue
        entry = chosen.setdefault(current.test.id, ([], replaces))
        entry[0].extend(f for f in flags if f not in entry[0])
    # a test whose result another one gives as well (plain MRI within MRI with gadolinium) is not listed twice
    for tid in [*chosen, *recorded]:
        owner = next((o for o in (*recorded, *chosen) if o != tid and tid in compiled.tests[o].test.includes), None)
        if owner is None:
            continue
        moved = chosen.pop(tid)[0] if tid in chosen else recorded.pop(tid)[0]
        target = chosen[owner][0] if owner in chosen else recorded[owner][0]
        target.extend(f for f in moved if f not in target)
    # the tests of the most urgent flag first, of a flag whose care is established (a bleed with a falling
    # haemoglobin) before one whose care waits for a test; among equals, the flags in the order triage acts on them;
    # then in the catalogue's order (cultures first)
    by_id = {r.id: r for r in ratings.options}
    rank_of = {f.flag: (acting_rank(f, by_id), place) for place, f in enumerate(triage.fired)}
    ordered = sorted(chosen.items(), key=lambda item: min(rank_of[f] for f in item[1][0]))
    result = []
    for rank, (tid, (flags, replaces)) in enumerate(ordered, start=1):
        t = compiled.tests[tid]
        why = "Called for by the red flag: " + ", ".join(f.replace("_", " ") for f in flags)
        if replaces:
            why += f" (instead of {compiled.tests[replaces].test.title}, which is contraindicated)"
        result.append(_suggestion(t, rank, True, tuple(flags), 0.0, why, (), (), states, replaces))
    done = [
        RecordedResult(tid, compiled.tests[tid].test.title, tuple(flags), text)
        for tid, (flags, text) in recorded.items()
    ]
    return result, done


def _not_applicable(t: _Test, states: dict[str, Presence], kb: KnowledgeBase) -> SetAside | None:
    """A test that does not apply to this patient (a CT of the fusion without a fusion)."""
    if t.applies_if is None or t.applies_if(states) is not A:
        return None
    assert t.test.applies_if is not None
    names = titles(kb)
    because = "; ".join(
        f"{names.get(i, i)}: {'yes' if states[i] is P else 'no'}" for i in leaves(t.test.applies_if, states, A)
    )
    return SetAside(t.test.id, t.test.title, f"Does not apply here ({because})", "not_applicable", None, ())


def workup(
    care: CareStates,
    triage: Triage,
    differential: Differential,
    ratings: OptionRatings,
    scs: ScsAdvice,
    kb: KnowledgeBase,
) -> Workup:
    """Urgent tests for fired red flags, then every other useful test ranked by value per burden (pure)."""
    compiled = _compiled(kb)
    weights = kb.care.tests.weights
    states = care.states
    urgent, recorded = _urgent(triage, compiled, care, ratings, kb)
    urgent_ids = {s.test for s in urgent} | {s.replaces for s in urgent if s.replaces} | {r.test for r in recorded}
    points = _decision_points(ratings, scs, care, compiled, kb)
    top = differential.causes[: weights.top_causes]
    top_ids = [c.cause for c in top]
    logits = {cause: _logit(p) for cause, p in care.probability.items()}
    # the causes compete for the main explanation: a concept's causes are likely together by the sum of their shares
    concept_now = {cid: sum(care.probability.get(c, 0.0) for c in causes) for cid, causes in _cause_concepts(kb)}
    cause_titles = {c.cause: c.title for c in differential.causes}
    concept_titles = titles(kb)
    appropriate = {r.id for r in ratings.options if r.label is Label.appropriate and r.elective}
    prepares = {
        step: t.title[0].lower() + t.title[1:]
        for t in reversed(kb.care.treatments)
        if t.id in appropriate
        for step in t.prepare
    }

    if triage.fired:  # elective work-up waits until the red flag is dealt with
        return Workup(
            urgent=tuple(urgent), ranked=(), deferred=(), not_suggested=(), questions=(), recorded=tuple(recorded)
        )
    candidates: list[tuple[_Test, str | None]] = []
    deferred: list[SetAside] = []
    not_suggested: list[SetAside] = []
    for t in compiled.tests.values():
        test = t.test
        if test.id in urgent_ids or not test.elective:
            continue
        outside = _not_applicable(t, states, kb)
        if outside is not None:
            not_suggested.append(outside)
            continue
        blocked = _contraindicated(t, states)
        if blocked is not None:
            reason, alternative, sources = blocked
            text = f"Contraindicated: {reason}" + (
                f"; {compiled.tests[alternative].test.title} instead" if alternative else ""
            )
            not_suggested.append(SetAside(test.id, test.title, text, "contraindicated", None, sources))
            if alternative is not None and alternative not in urgent_ids:
                alt = compiled.tests[alternative]
                if _contraindicated(alt, states) is None:
                    candidates.append((alt, test.id))
            continue
        candidates.append((t, None))

    scored: list[tuple[float, float, str, TestSuggestion]] = []
    seen: set[str] = set()
    for t, replaces in candidates:
        test = t.test
        if test.id in seen:
            continue
        seen.add(test.id)
        if not t.findings:  # e.g. discography: kept in the catalogue for its contraindications and cautions
            not_suggested.append(
                SetAside(
                    test.id, test.title, "None of its results would change this assessment", "no_change", None, ()
                )
            )
            continue
        open_findings = [f for f, v in zip(t.findings, t.read(states), strict=True) if v is U]
        if not open_findings:
            present = [_phrase(f, care, kb) for f in test.reveals if states[f] is P]
            # never 'already known' alone: say what is recorded, so a test not done does not read as done
            answered = [_phrase(f, care, kb) for f in test.reveals if states[f] is not U][:3]
            reason = (
                "Already done: " + "; ".join(present)
                if present
                else "What it looks for is already answered: " + "; ".join(answered)
                if answered
                else "What it looks for is already answered by other findings"
            )
            not_suggested.append(SetAside(test.id, test.title, reason, "known", None, ()))
            continue
        groups = t.groups
        swings: dict[str, tuple[float, float] | None] = {}

        def swing(
            cause: str,
            groups: dict[str, tuple[tuple[str, int, float, float], ...]] = groups,
            swings: dict[str, tuple[float, float] | None] = swings,
        ) -> tuple[float, float] | None:
            if cause not in swings:
                base = logits.get(cause)
                swings[cause] = None if base is None else _swing(base, states, groups[cause])
            return swings[cause]

        settles: dict[str, Item] = {}
        weight = 0.0  # decision points, each weighted by the chance the result settles it the other way
        for fid in open_findings:
            for point in points.get(fid, ()):
                if point.id not in settles:
                    settles[point.id] = point
                    weight += 1.0
        leading = _leader_change(differential, care, groups, swing)
        if leading is not None and LEADING_CAUSE.id not in settles:
            settles[LEADING_CAUSE.id] = LEADING_CAUSE
            weight += leading
        reach = t.reach
        for concept_id, causes, threshold in t.concepts:
            now = concept_now[concept_id]
            probability = care.probability
            # skip without computing when no result could carry the concept across the threshold
            if now < threshold and all(
                now - probability.get(c, 0.0) + _sigmoid(logits.get(c, -99.0) + reach[c][0]) < threshold
                for c in causes
                if c in reach
            ):
                continue
            if (
                now >= threshold
                and now
                - sum(
                    probability.get(c, 0.0) - _sigmoid(logits.get(c, -99.0) + reach[c][1]) for c in causes if c in reach
                )
                >= threshold
            ):
                continue
            moved = {c: m for c in causes if c in groups and (m := swing(c)) is not None}
            if not moved:
                continue
            if now >= threshold:
                after = sum(moved[c][1] if c in moved else probability.get(c, 0.0) for c in causes)
                flips = after < threshold
                chance = 1.0 - now
            else:
                flips = any(now - probability.get(c, 0.0) + hi >= threshold for c, (hi, _) in moved.items())
                chance = now
            if flips and concept_id not in settles:
                settles[concept_id] = Item(concept_id, concept_titles[concept_id])
                weight += chance
        if not settles:
            before = prepares.get(test.id)
            reason = (
                f"Not needed to choose between the causes; done before {before} (see the plan)"
                if before
                else "Its result could not change management now"
            )
            not_suggested.append(SetAside(test.id, test.title, reason, "no_change", None, ()))
            continue
        defer = next(
            (tm for tm, fn in zip(test.timing, t.timing, strict=True) if tm.action == "defer" and fn(states) is P),
            None,
        )
        if defer is not None:  # useful, but not yet: the timing rule holds it back
            deferred.append(
                SetAside(test.id, test.title, defer.reason, "deferred", defer.earliest_months, defer.sources)
            )
            continue
        expected = 0.0
        shifts: list[CauseShift] = []
        for cause in top_ids:
            if cause in groups and (moved_by := swing(cause)) is not None:
                p = care.probability[cause]
                hi, lo = moved_by
                expected += p * (hi - p) + (1 - p) * (p - lo)
                shifts.append(CauseShift(cause, cause_titles[cause], p, hi, lo))
        shifts.sort(key=lambda s: (-(s.if_for - s.if_against), s.cause))
        # a question costs only time and is asked for what it settles as well; an investigation is ordered for what
        # it would show about the leading causes
        per_point = weights.decision_weight if test.kind.is_question else weights.investigation_decision_weight
        value = expected + per_point * weight
        parts = []
        if shifts:
            s = shifts[0]
            shown = differential.percent
            parts.append(f"{s.title}: {shown(s.now)} now, {shown(s.if_against)}-{shown(s.if_for)} after the result")
        parts.append("could settle: " + "; ".join(p.title for p in list(settles.values())[:3]))
        suggestion = _suggestion(
            t,
            0,
            False,
            (),
            value,
            ". ".join(parts),
            tuple(shifts[:3]),
            tuple(settles.values()),
            states,
            replaces,
        )
        scored.append((-suggestion.score, t.burden, test.id, suggestion))
    scored.sort(key=lambda x: x[:3])
    # questions (history, examination, questionnaires) cost only time: listed apart so that the investigations to
    # order are not pushed down by them
    asked = [s for _, _, _, s in scored if s.kind.is_question]
    ordered = [s for _, _, _, s in scored if not s.kind.is_question]
    return Workup(
        urgent=tuple(urgent),
        ranked=tuple(_renumber(s, i + 1) for i, s in enumerate(ordered)),
        deferred=tuple(deferred),
        not_suggested=tuple(not_suggested),
        questions=tuple(_renumber(s, i + 1) for i, s in enumerate(asked)),
        recorded=tuple(recorded),
    )


LEADING_CAUSE = Item("leading_cause", "Which cause is the main one (the result could change the leading cause)")


def _leader_change(
    differential: Differential,
    care: CareStates,
    groups: dict[str, tuple[tuple[str, int, float, float], ...]],
    swing: Callable[[str], tuple[float, float] | None],
) -> float | None:
    """The chance that the result changes which cause leads, when some result could; None when none could.

    A cause that rises takes its share from the others in proportion, so the leader's share falls with it.
    """
    causes = differential.causes
    if len(causes) < 2:
        return None
    leader, runner_up = causes[0], causes[1]
    for cause in causes[:TOP_FOR_LEADER]:
        if cause.cause not in groups or (moved := swing(cause.cause)) is None:
            continue
        high, low = moved
        if cause is leader:
            others = (1.0 - low) / max(1.0 - leader.probability, 1e-9)
            if low < runner_up.probability * others:
                return 1.0 - leader.probability
        else:
            rest = (1.0 - high) / max(1.0 - cause.probability, 1e-9)
            if high > leader.probability * rest:
                return cause.probability
    return None


TOP_FOR_LEADER = 6


def _renumber(s: TestSuggestion, rank: int) -> TestSuggestion:
    """The suggestion at its place in its own list."""
    return TestSuggestion(
        s.test,
        s.title,
        s.kind,
        rank,
        s.urgent,
        s.for_flags,
        s.value,
        s.burden,
        s.score,
        s.why,
        s.shifts,
        s.settles,
        s.separates,
        s.accuracy,
        s.cautions,
        s.decision_point,
        s.replaces,
    )
