"""The care-planning sections as Markdown: work-up, option ratings, SCS advice and the stepped plan."""

from __future__ import annotations

from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.care_results import OptionRatings, Plan, ScsAdvice, Workup
from fbss.reports.care_wording import ADVICE_LABEL, STATE_MARK, missing, rating_text, reasons
from fbss.reports.wording import EVIDENCE_LABEL, joined


def _cite(ids: tuple[str, ...], kb: KnowledgeBase) -> str:
    return "; ".join(kb.sources[i].citation for i in ids if i in kb.sources) or "no published source"


def workup_markdown(work: Workup, kb: KnowledgeBase) -> list[str]:
    out = ["## Work-up", ""]
    for test in work.urgent:
        out.append(f"- **URGENT — {test.title}.** {test.why}")
        out += [f"  - {c.text}" for c in test.cautions]
    for done in work.recorded:
        out.append(f"- Already done (not ordered again): {done.title} — {done.result}")
    if work.ranked:
        out += [
            "",
            "Ranked by value of information per unit of burden (cheapest and safest first on ties):",
            "",
        ]
    for test in work.ranked:
        out.append(f"{test.rank}. **{test.title}** (burden {test.burden:g}). {test.why}")
        if test.accuracy:
            out.append(
                f"   - Accuracy: {test.accuracy.text} ({EVIDENCE_LABEL[test.accuracy.evidence]}; "
                f"{_cite(test.accuracy.sources, kb)})"
            )
        out += [f"   - {c.text}" for c in test.cautions]
        if test.decision_point:
            out.append(f"   - Then: {test.decision_point}")
    if work.questions:
        out += ["", "Ask and examine at the visit:", ""]
        out += [f"{q.rank}. {q.title}. {q.why}" for q in work.questions]
    for aside in work.deferred:
        out.append(f"- Deferred: {aside.title} — {aside.reason}")
    if work.not_suggested:
        out += [
            "",
            "Not suggested now: " + "; ".join(f"{a.title} ({a.reason.lower()})" for a in work.not_suggested),
        ]
    return [*out, ""]


def options_markdown(ratings: OptionRatings) -> list[str]:
    out = [
        "## Appropriateness",
        "",
        "RAND/UCLA scale: 7-9 appropriate, 4-6 uncertain, 1-3 inappropriate.",
        "",
        "| Category | Rating | Because | Missing to decide |",
        "|---|---|---|---|",
    ]
    out += [f"| {r.title} | {rating_text(r)} | {reasons(r)} | {missing(r) or '—'} |" for r in ratings.categories]
    out += [
        "",
        "Specific options (every score an expert estimate: the panel rated only the four categories):",
        "",
        "| Option | Score | Because | Missing to decide |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {r.title} | {r.label.value} {r.score}/9 | {reasons(r, 2)} | {missing(r) or '—'} |" for r in ratings.options
    ]
    return [*out, ""]


def scs_markdown(scs: ScsAdvice, kb: KnowledgeBase) -> list[str]:
    out = ["## Spinal cord stimulation", ""]
    if scs.advice is None:
        out.append("**Advice stopped:** " + "; ".join(b.because for b in scs.stopped_by) + ".")
    else:
        out.append(f"**Advice: {ADVICE_LABEL[scs.advice]}.**")
    out += [
        f"- Clinical: {rating_text(scs.clinical)} — {reasons(scs.clinical)}",
        f"- Psychosocial factors present: {scs.factors_present} of {len(scs.factors)}; "
        f"not assessed: {scs.factors_unknown}",
    ]
    out += [f"- Condition: {b.because}" for b in scs.conditions]
    out += ["- NICE TA159:"] + [f"  - {n.title}: {STATE_MARK[n.state]} ({n.how})" for n in scs.nice]
    if scs.missing:
        out.append("- Missing to decide: " + joined(scs.missing))
    out.append(
        f"- Basis: {scs.advice_basis.text} ({EVIDENCE_LABEL[scs.advice_basis.evidence]}; "
        f"{_cite(scs.advice_basis.sources, kb)})"
    )
    return [*out, ""]


def plan_markdown(plan: Plan) -> list[str]:
    out = ["## Stepped care plan", ""]
    for step in plan.steps:
        out.append(f"{step.order}. **{step.title}.** {step.detail}")
        if step.decision_point:
            out.append(f"   - Then: {step.decision_point}")
    out += ["", "### Follow-up", ""] + [f"- {f.at}: {f.what}" for f in plan.follow_up]
    out += ["", "### Outcomes to collect", ""] + [f"- {o.title}: {o.instrument}; {o.change}" for o in plan.outcomes]
    if plan.grid:
        out += [
            "",
            "### Option grid (for the patient)",
            "",
            "| Option | What it involves | Chance of benefit | Risks | Recovery |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {g.title} ({g.label.value}, {g.score}/9, {g.score_basis}) | {g.involves} | {g.benefit} | "
            f"{g.risks} | {g.recovery} |"
            for g in plan.grid
        ]
    return [*out, ""]
