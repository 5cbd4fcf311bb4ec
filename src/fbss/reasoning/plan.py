"""The stepped care plan: each fired red flag's action followed at once by its definitive treatment, the urgent
tests, the red-flag screen still open, then work-up and treatments in order with their decision points, the
follow-up schedule, the outcomes to collect, and a shared-decision option grid for the patient."""

from __future__ import annotations

from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import AdviceLevel, PanelCategory, TreatmentDef
from fbss.knowledge.models import ACT_WHEN, Category, Urgency
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
}


@cache
def _treatments(kb: KnowledgeBase) -> dict[str, TreatmentDef]:
    return {t.id: t for t in kb.care.treatments}


@cache
def _option_sources(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    return {t.id: tuple(dict.fromkeys(s for e in t.evidence for s in e.sources)) for t in kb.care.treatments}


def _treatment_step(
    rating: Rating, option: TreatmentDef, kb: KnowledgeBase
) -> tuple[str, str, str | None, tuple[str, ...]]:
    reasons = "; ".join(b.because for b in rating.because if b.effect.startswith("set") or b.rule == "requires")
    detail = f"{rating.label.value}, {rating.score}/9 ({rating.score_basis})"
    if reasons:
        detail += f". {reasons}"
    cautions = "; ".join(b.because for b in rating.because if b.effect == "caution")
    if cautions:
        detail += f". {cautions}"  # each reads "Caution: ..."
    return option.title, detail, option.next_step, _option_sources(kb)[option.id]


def _scs_step(scs: ScsAdvice) -> tuple[str, str, str] | None:
    if scs.advice is None or scs.advice is AdviceLevel.not_recommended:
        return None
    words = ADVICE_WORDS[scs.advice]
    clinical = scs.clinical.label.value
    detail = f"SCS advice: {words} (clinical {clinical}, {scs.factors_present} psychosocial factor(s))"
    if scs.advice is AdviceLevel.rarely_recommended:
        detail += ". Address the psychosocial factors first"
    unmet = [n.title for n in scs.nice if n.state is not P]
    if unmet:
        detail += ". NICE TA159 still to meet: " + "; ".join(unmet)
    decision = "If the trial gives 50 % relief or more, implant; if not, remove the trial leads and revisit the plan"
    return "Refer for SCS assessment by the multidisciplinary team, then a trial", detail, decision


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
    asks = "; ".join(q.text for q in screen.open)
    at_stake = tuple(dict.fromkeys(f.title for q in screen.open for f in q.flags))
    flags = {f.id: f for f in kb.red_flags}
    stake_ids = dict.fromkeys(f.flag for q in screen.open for f in q.flags)
    sources = tuple(dict.fromkeys(s for fid in stake_ids for s in flags[fid].sources))
    return (
        "screen",
        f"Red-flag screen: {n} question{'s' if n != 1 else ''} open",
        asks,
        "A 'yes' to any question raises its red flag: " + "; ".join(at_stake),
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
    definitive = definitive_care(triage.fired, by_id, kb)
    replaced = {r.id for f in triage.fired for r in definitive_options(f, by_id)} - {
        o for d in definitive for o in d.options
    }
    shown.update(replaced)  # performed by the treatment that replaced it
    for flag, chosen in zip(triage.fired, definitive, strict=True):
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
        likely = kb.care.appropriateness.scale.likely
        for cause in differential.causes:
            if cause.category is Category.extraspinal and cause.probability >= likely:
                rows.append(
                    (
                        "refer",
                        f"Treat or refer: {cause.title}",
                        f"Likely at {differential.percent(cause.probability)}; treat it before spinal options",
                        None,
                        None,
                        cause.prior_sources,
                        cause.cause,
                    )
                )
        appropriate = [r for r in ratings.options if r.label is Label.appropriate]
        appropriate.sort(key=lambda r: (r.elective, _STEP[r.category], -r.score, r.id))
        scs_row = _scs_step(scs)
        scs_done = False
        for rating in appropriate:
            option = options[rating.id]
            if "scs" in option.tags:
                continue
            if scs_row and not scs_done and _STEP[rating.category] > _STEP[PanelCategory.neurostimulation]:
                rows.append(("scs", *scs_row, None, scs.advice_basis.sources, None))
                scs_done = True
            title, detail, decision, sources = _treatment_step(rating, option, kb)
            rows.append(("treatment", title, detail, decision, None, sources, rating.id))
        if scs_row and not scs_done:
            rows.append(("scs", *scs_row, None, scs.advice_basis.sources, None))
        uncertain = [r for r in ratings.options if r.label is Label.uncertain and r.elective][:UNCERTAIN_SHOWN]
        if uncertain:
            rows.append(
                (
                    "treatment",
                    "To discuss if these do not help",
                    "; ".join(f"{r.title} ({r.score}/9, {r.score_basis})" for r in uncertain),
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
