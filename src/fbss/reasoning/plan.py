"""The stepped care plan: each fired red flag's action followed at once by its definitive treatment, the urgent
tests, the red-flag screen still open, then work-up and treatments in order with their decision points, the
follow-up schedule, the outcomes to collect, and a shared-decision option grid for the patient."""

from __future__ import annotations

from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import AdviceLevel, CausePath, PanelCategory, TestDef, TreatmentDef
from fbss.knowledge.models import ACT_WHEN, Category, Urgency
from fbss.reasoning.acting_order import acting_order
from fbss.reasoning.care_results import (
    DefinitiveCare,
    FollowUpItem,
    GridRow,
    Label,
    OptionRatings,
    OutcomeItem,
    Plan,
    PlanStep,
    Rating,
    ScsAdvice,
    Workup,
)
from fbss.reasoning.concepts import CareStates
from fbss.reasoning.prose import joined
from fbss.reasoning.results import Differential, RedFlagResult, Screen, Triage

Row = tuple[str, str, str, str | None, Urgency | None, tuple[str, ...], str | None]

P = Presence.present
PLAN_TESTS = 5
PLAN_QUESTIONS = 2  # questions (history, examination) placed before the investigations
UNCERTAIN_SHOWN = 4
_STEP = {
    PanelCategory.conservative: 1,
    PanelCategory.minimally_invasive: 2,
    PanelCategory.neurostimulation: 3,
    PanelCategory.reoperation: 4,
}
ADVICE_WORDS = {
    AdviceLevel.strongly_recommended: "strongly recommended",
    AdviceLevel.recommended: "recommended",
    AdviceLevel.rarely_recommended: "rarely recommended",
    AdviceLevel.not_recommended: "not recommended",
    AdviceLevel.provisional: "provisional — assess first",
}


@cache
def _treatments(kb: KnowledgeBase) -> dict[str, TreatmentDef]:
    return {t.id: t for t in kb.care.treatments}


@cache
def _option_sources(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    return {
        t.id: tuple(dict.fromkeys(s for e in (*t.evidence, t.success) for s in e.sources)) for t in kb.care.treatments
    }


def _treatment_step(
    rating: Rating, option: TreatmentDef, kb: KnowledgeBase
) -> tuple[str, str, str | None, tuple[str, ...]]:
    reasons = joined(b.because for b in rating.because if b.effect.startswith("set") or b.rule == "requires")
    detail = f"{rating.label.value}, {rating.score}/9 ({rating.score_basis})"
    if reasons:
        detail += f". {reasons}"
    cautions = joined(b.because for b in rating.because if b.effect == "caution")
    if cautions:
        detail += f". {cautions}"  # each reads "Caution: ..."
    success = f"Success: {option.success.text}"
    decision = f"{option.next_step.rstrip('.')}. {success}" if option.next_step else success
    return option.title, detail, decision, _option_sources(kb)[option.id]


def _scs_step(scs: ScsAdvice) -> tuple[str, str, str] | None:
    if scs.advice is None or scs.advice is AdviceLevel.not_recommended:
        return None
    words = ADVICE_WORDS[scs.advice]
    clinical = scs.clinical.label.value
    present = f"{scs.factors_present} psychosocial factor(s) present, {scs.factors_unknown} not yet assessed"
    detail = f"SCS advice: {words} (clinical {clinical}, {present})"
    if scs.advice is AdviceLevel.provisional and scs.provisional_of is not None:
        detail += f"; {ADVICE_WORDS[scs.provisional_of]} once the open items are assessed and hold"
        opened = [b.because for b in scs.held_back if b.effect == "provisional"]
        if scs.factors_unknown:
            opened.insert(0, "the psychosocial factors")
        detail += ". Assess first: " + joined(opened)
    if scs.advice is AdviceLevel.rarely_recommended:
        detail += ". Address the psychosocial factors first"
    held = [b.because for b in scs.held_back if b.effect != "provisional"]
    if held:
        detail += ". " + joined(held)
    unmet = [n.title for n in scs.nice if n.state is not P]
    if unmet:
        detail += ". NICE TA159 still to meet: " + joined(unmet)
    decision = "If the trial gives 50 % relief or more, implant; if not, remove the trial leads and revisit the plan"
    if scs.advice is AdviceLevel.provisional:
        return "Assess before any SCS referral, then refer to the multidisciplinary team for a trial", detail, decision
    return "Refer for SCS assessment by the multidisciplinary team, then a trial", detail, decision


@cache
def _cause_paths(kb: KnowledgeBase) -> dict[str, CausePath]:
    return {p.cause: p for p in kb.care.plan.cause_paths}


def _cause_path_rows(
    differential: Differential, appropriate: set[str], kb: KnowledgeBase, red_flag: bool = False
) -> list[Row]:
    """A referral or treatment step for each likely cause, unless a treatment that completes its path is already
    rated appropriate (the plan lists that treatment). Causes outside the spine are treated before spinal options.
    Under a fired red flag only the paths that are urgent care themselves (`while_red_flag`) are listed."""
    likely = kb.care.appropriateness.scale.likely
    paths = _cause_paths(kb)
    rows: list[Row] = []
    for cause in differential.causes:
        path = paths.get(cause.cause)
        if cause.probability < likely or path is None or appropriate & set(path.options):
            continue
        if red_flag and not path.while_red_flag:
            continue
        where = "treat it before spinal options" if cause.category is Category.extraspinal else "its next step"
        detail = f"{cause.title} likely at {differential.percent(cause.probability)}; {where}: {path.action}"
        sources = path.sources or cause.prior_sources
        rows.append(("refer", path.title, detail, path.decision_point, None, sources, cause.cause))
    return rows


@cache
def _tests(kb: KnowledgeBase) -> dict[str, TestDef]:
    return {t.id: t for t in kb.care.tests.tests}


def _prepare_rows(
    option: TreatmentDef,
    labels: dict[str, Label],
    care: CareStates,
    listed_tests: set[str],
    shown: set[str],
    kb: KnowledgeBase,
) -> list[Row]:
    """The optimisation options rated appropriate and the tests not yet done that come before an operation."""
    rows: list[Row] = []
    options, tests = _treatments(kb), _tests(kb)
    for step in option.prepare:
        if step in shown or step in listed_tests:
            continue
        if step in options:
            if labels.get(step) is not Label.appropriate:
                continue
            shown.add(step)
            before = options[step]
            detail = f"Before {option.title[0].lower()}{option.title[1:]}: {before.description}"
            decision = f"{before.next_step.rstrip('.')}. " if before.next_step else ""
            rows.append(
                (
                    "treatment",
                    before.title,
                    detail,
                    decision + f"Success: {before.success.text}",
                    None,
                    _option_sources(kb)[step],
                    step,
                )
            )
        else:
            test = tests[step]
            if test.reveals and all(care.states.get(f, Presence.unknown) is not Presence.unknown for f in test.reveals):
                continue  # already done
            shown.add(step)
            detail = f"Before {option.title[0].lower()}{option.title[1:]}: {test.separates}"
            sources = test.accuracy.sources if test.accuracy else ()
            rows.append(("test", test.title, detail, test.decision_point, None, sources, step))
    return rows


def definitive_options(flag: RedFlagResult, ratings: dict[str, Rating]) -> list[Rating]:
    """The flag's definitive options worth acting on: those not rated inappropriate. None may be (implant revision
    for an insufficiency fracture with the implants intact): the flag's action then stands alone."""
    rated = [ratings[o] for o in flag.definitive if o in ratings]
    return [r for r in rated if r.label is not Label.inappropriate]


def definitive_care(
    fired: tuple[RedFlagResult, ...], ratings: dict[str, Rating], kb: KnowledgeBase
) -> tuple[DefinitiveCare, ...]:
    """Each fired flag's definitive treatments; one that another listed treatment also performs (`includes`) is
    replaced by it once that one is rated appropriate (the lesion is shown), so one operation is not listed as two."""
    options = _treatments(kb)
    chosen = [(flag.flag, definitive_options(flag, ratings)) for flag in fired]
    listed = {r.id: r for _, rs in chosen for r in rs}
    covering: dict[str, Rating] = {}
    for x in listed.values():
        for y in options[x.id].includes:
            if (
                y in listed
                and y not in covering
                and x.id not in covering
                and x.label is Label.appropriate  # the lesion is shown: while only suspected, both stay open
            ):
                covering[y] = x
    return tuple(
        DefinitiveCare(flag, tuple(dict.fromkeys(covering.get(r.id, r).id for r in rs))) for flag, rs in chosen
    )


def _screen_row(screen: Screen, kb: KnowledgeBase) -> Row | None:
    """All the open red-flag questions as one step."""
    if not screen.open:
        return None
    n = len(screen.open)
    asks = joined(q.text for q in screen.open)
    at_stake = tuple(dict.fromkeys(f.title for q in screen.open for f in q.flags))
    flags = {f.id: f for f in kb.red_flags}
    stake_ids = dict.fromkeys(f.flag for q in screen.open for f in q.flags)
    sources = tuple(dict.fromkeys(s for fid in stake_ids for s in flags[fid].sources))
    return (
        "screen",
        f"Red-flag screen: {n} question{'s' if n != 1 else ''} open",
        asks,
        "A 'yes' to any question raises its red flag: " + joined(at_stake),
        screen.open[0].urgency,
        sources,
        None,
    )


def plan(
    care: CareStates,
    triage: Triage,
    differential: Differential,
    work: Workup,
    ratings: OptionRatings,
    scs: ScsAdvice,
    kb: KnowledgeBase,
) -> Plan:
    """One ordered plan for the case (pure)."""
    rows: list[Row] = []
    options = _treatments(kb)
    by_id = {r.id: r for r in ratings.options}
    shown: set[str] = set()
    fired = acting_order(triage.fired, by_id)
    definitive = definitive_care(fired, by_id, kb)
    replaced = {r.id for f in fired for r in definitive_options(f, by_id)} - {o for d in definitive for o in d.options}
    shown.update(replaced)  # performed by the treatment that replaced it
    for flag, chosen in zip(fired, definitive, strict=True):
        heading = f"{ACT_WHEN[flag.urgency]}: {flag.title}"
        rows.append(("red_flag", heading, flag.action, None, flag.urgency, flag.sources, flag.flag))
        for option_id in chosen.options:
            if option_id in shown:
                continue
            shown.add(option_id)
            rating = by_id[option_id]
            title, detail, decision, sources = _treatment_step(rating, options[option_id], kb)
            performs = [options[y].title for y in options[option_id].includes if y in replaced]
            if performs:
                detail += f". It is also the {'; '.join(t[0].lower() + t[1:] for t in performs)}"
            rows.append(("definitive", title, detail, decision, flag.urgency, sources, option_id))
    if triage.fired:  # the team a likely urgent cause needs is called with the flag's care, before its tests
        # a path whose care a fired flag already calls for (an epidural haematoma's evacuation) is not repeated
        called_for = {r.id for r in ratings.options if r.label is Label.appropriate}
        called_for |= {o for f in fired for o in f.definitive}
        rows += _cause_path_rows(differential, called_for, kb, red_flag=True)
    for test in work.urgent:
        rows.append(
            (
                "test",
                test.title,
                test.why,
                test.decision_point,
                None,
                test.accuracy.sources if test.accuracy else (),
                test.test,
            )
        )
    for done in work.recorded:
        rows.append(("done", f"Already done: {done.title}", done.result, None, None, (), done.test))
    screen = _screen_row(triage.screen, kb)
    if screen is not None:
        rows.append(screen)
    if triage.fired:
        urgent_care = [
            r for r in ratings.options if not r.elective and r.label is Label.appropriate and r.id not in shown
        ]
        for rating in urgent_care:
            title, detail, decision, sources = _treatment_step(rating, options[rating.id], kb)
            rows.append(("treatment", title, detail, decision, None, sources, rating.id))
        rows.append(
            (
                "review",
                "Re-assess once the red flag is resolved",
                "Elective work-up and treatment wait until the red flag has been dealt with",
                None,
                None,
                (),
                None,
            )
        )
    else:
        # the questions that cost only time come first, then the investigations to order
        for test in (*work.questions[:PLAN_QUESTIONS], *work.ranked[:PLAN_TESTS]):
            rows.append(
                (
                    "test",
                    test.title,
                    test.why,
                    test.decision_point,
                    None,
                    test.accuracy.sources if test.accuracy else (),
                    test.test,
                )
            )
        for aside in work.deferred:
            when = f"from {aside.earliest_months:g} months after surgery" if aside.earliest_months else "later"
            rows.append(("test", f"{aside.title} ({when})", aside.reason, None, None, aside.sources, aside.test))
        appropriate = [r for r in ratings.options if r.label is Label.appropriate]
        rows += _cause_path_rows(differential, {r.id for r in appropriate}, kb)
        # an operation for an established target leads, its optimisation steps and tests just before it
        surgical = {r.id for r in appropriate if r.elective and r.category is PanelCategory.reoperation}
        appropriate.sort(key=lambda r: (r.elective, r.id not in surgical, _STEP[r.category], -r.score, r.id))
        by_label = {r.id: r.label for r in appropriate}
        listed_tests = {t.test for t in (*work.urgent, *work.ranked[:PLAN_TESTS])} | {d.test for d in work.recorded}
        scs_row = _scs_step(scs)
        scs_done = False
        for rating in appropriate:
            option = options[rating.id]
            if "scs" in option.tags or rating.id in shown:
                continue
            if rating.id in surgical:
                performed_by = [s for s in surgical if rating.id in options[s].includes]
                if performed_by:  # one operation, listed once: the larger one says it includes this
                    continue
                for before in _prepare_rows(option, by_label, care, listed_tests, shown, kb):
                    rows.append(before)
            shown.add(rating.id)
            if scs_row and not scs_done and _STEP[rating.category] > _STEP[PanelCategory.neurostimulation]:
                rows.append(("scs", *scs_row, None, scs.advice_basis.sources, None))
                scs_done = True
            title, detail, decision, sources = _treatment_step(rating, option, kb)
            included = [options[y].title for y in option.includes if y in surgical]
            if included:
                detail += f". It includes the {'; '.join(t[0].lower() + t[1:] for t in included)}"
            rows.append(("treatment", title, detail, decision, None, sources, rating.id))
        if scs_row and not scs_done:
            rows.append(("scs", *scs_row, None, scs.advice_basis.sources, None))
        uncertain = [r for r in ratings.options if r.label is Label.uncertain and r.elective][:UNCERTAIN_SHOWN]
        if uncertain:
            rows.append(
                (
                    "treatment",
                    "To discuss if these do not help",
                    joined(f"{r.title} ({r.score}/9, {r.score_basis})" for r in uncertain),
                    None,
                    None,
                    (),
                    None,
                )
            )
    steps = tuple(
        PlanStep(
            order=i + 1,
            kind=kind,
            title=title,
            detail=detail,
            decision_point=decision,
            urgency=urgency,
            sources=tuple(sources),
            ref=ref,
        )
        for i, (kind, title, detail, decision, urgency, sources, ref) in enumerate(rows)
    )
    doc = kb.care.plan
    follow_up = tuple(FollowUpItem(f.at, f.what, f.evidence, f.sources) for f in doc.follow_up)
    outcomes = tuple(OutcomeItem(o.id, o.title, o.instrument, o.change, o.evidence, o.sources) for o in doc.outcomes)
    # while a red flag is being dealt with there is no elective choice to share yet
    grid_ratings = (
        [] if triage.fired else [r for r in ratings.options if r.label is not Label.inappropriate and r.elective]
    )
    # the appropriate options first, then those aimed at a likely cause (a revision for a recurrent disc that is
    # still "could be considered" is on the list), then by score
    likely = {c.cause for c in differential.causes if c.probability >= kb.care.appropriateness.scale.likely}
    grid_ratings.sort(
        key=lambda r: (r.label is not Label.appropriate, not likely & set(options[r.id].treats), -r.score)
    )
    grid = tuple(
        GridRow(
            option=r.id,
            title=options[r.id].title,
            label=r.label,
            score=r.score,
            score_basis=r.score_basis,
            involves=options[r.id].patient.involves,
            benefit=options[r.id].patient.benefit,
            risks=options[r.id].patient.risks,
            recovery=options[r.id].patient.recovery,
            sources=_option_sources(kb)[r.id],
        )
        for r in grid_ratings[: doc.grid_options]
    )
    return Plan(steps=steps, follow_up=follow_up, outcomes=outcomes, grid=grid, definitive=definitive)
