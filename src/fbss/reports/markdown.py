"""The assessment as Markdown, for notes, tickets and multidisciplinary meetings."""

from __future__ import annotations

from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment
from fbss.reports.care_markdown import options_markdown, plan_markdown, scs_markdown, workup_markdown
from fbss.reports.care_wording import lead_reasons, rating_text
from fbss.reports.safety_view import safety_view
from fbss.reports.wording import (
    COMPETING,
    EVIDENCE_LABEL,
    URGENCY_LABEL,
    ask_next,
    calibration_lines,
    cause_percent,
    fired_by_text,
    reason_with_ratio,
    since_surgery_text,
)


def _cite(ids: tuple[str, ...], kb: KnowledgeBase) -> str:
    return "; ".join(kb.sources[i].citation for i in ids) if ids else "no published source"


def red_flags_markdown(assessment: Assessment, kb: KnowledgeBase) -> list[str]:
    """Fired flags with their definitive treatment first, then the open screen as one checklist."""
    view = safety_view(assessment)
    out: list[str] = []
    for item in view.flags:
        flag = item.flag
        out.append(f"- **{URGENCY_LABEL[flag.urgency]} — {flag.title}.** {flag.action}")
        out += [f"  - Definitive treatment: {r.title} — {rating_text(r)}. {lead_reasons(r)}" for r in item.definitive]
        out += [f"  - Order now: {t.title}" for t in item.tests]
        out += [f"  - Already done: {d.title}: {d.result}" for d in item.recorded]
        out += [
            f"  - Fired by: {fired_by_text(flag, ', ')}",
            f"  - Basis: {EVIDENCE_LABEL[flag.evidence]}; {_cite(flag.sources, kb)}",
        ]
    screen = view.screen
    if screen.open:
        out += ["", f"**{screen.headline}** (a yes raises the flag named):", ""]
        out += [
            f"- [ ] {q.text} — {', '.join(f.title for f in q.flags)} ({URGENCY_LABEL[q.urgency].lower()})"
            for q in screen.open
        ]
    elif not view.flags:
        out.append(f"No red flag fired. {screen.headline}.")
    return [*out, ""]


def render_markdown(assessment: Assessment, kb: KnowledgeBase) -> str:
    """One assessment as a Markdown document."""
    out = [f"# Assessment of case {assessment.case_id}", ""]
    derived = assessment.derived
    out += [
        f"{since_surgery_text(derived.months_since_surgery, derived.surgery_group.value).capitalize()}; "
        f"{derived.operations} spine operation(s).",
        "",
    ]
    out += ["## Red flags", "", *red_flags_markdown(assessment, kb)]
    out += [
        "",
        "## Likely causes",
        "",
        COMPETING + " Range: the probability if every unknown linked finding went against or for the cause.",
        "",
        "| # | Cause | Probability | Range | Raised by | Lowered by |",
        "|---|---|---|---|---|---|",
    ]
    show = cause_percent(assessment.differential)
    for cause in assessment.differential.causes:
        up = "; ".join(reason_with_ratio(r) for r in cause.raised_by)
        down = "; ".join(reason_with_ratio(r) for r in cause.lowered_by)
        out.append(
            f"| {cause.rank} | {cause.title} | {show(cause.probability)} | "
            f"{show(cause.low)}–{show(cause.high)} | {up or '—'} | {down or '—'} |"
        )
    if assessment.differential.not_ranked:
        out += ["", assessment.differential.not_ranked]
    else:
        out += ["", *calibration_lines(assessment.differential)]
    if assessment.differential.excluded:
        out += [
            "",
            "Not applicable to this operation: " + ", ".join(e.title for e in assessment.differential.excluded) + ".",
        ]
    if ask_next(assessment):
        out += ["", "## Would change the differential most", ""]
        out += [f"- {q.question or q.title}" for q in ask_next(assessment)]
    out += [
        "",
        *workup_markdown(assessment.workup, kb),
        *options_markdown(assessment.options),
        *scs_markdown(assessment.scs, kb),
        *plan_markdown(assessment.plan),
    ]
    out += [
        "",
        f"_Engine {assessment.engine_version}, knowledge base {assessment.knowledge_version} "
        f"({assessment.knowledge_fingerprint}). Decision support for clinicians: check each reason and source._",
        "",
    ]
    return "\n".join(out)


def render_plan_markdown(assessment: Assessment) -> str:
    """The stepped plan alone, for `fbss plan`."""
    out = [
        f"# Care plan for case {assessment.case_id}",
        "",
        *plan_markdown(assessment.plan),
        f"_Engine {assessment.engine_version}, knowledge base {assessment.knowledge_version} "
        f"({assessment.knowledge_fingerprint}). Decision support for clinicians._",
        "",
    ]
    return "\n".join(out)
