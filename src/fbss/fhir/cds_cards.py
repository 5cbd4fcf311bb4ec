"""An assessment as CDS Hooks cards: one per fired red flag (its action, then its definitive treatment, the urgent
tests it calls for and those already done), one checklist card for the open red-flag screen, one for the
differential, and, only when no red flag fired, one for the next steps of the plan (work-up and
the options rated appropriate) and one for the SCS advice when the plan refers for SCS.

Indicators: `critical` for an emergency red flag; `warning` for same-day and within-days red flags and for a
differential whose leading cause is strong; `info` otherwise. Cards format the assessment's own reasons and
sources; they recompute nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from fbss.case.model import Presence
from fbss.fhir import codes as c
from fbss.fhir.cds_models import Card, CdsCoding, Link, Source
from fbss.fhir.citations import source_url
from fbss.fhir.importer import ImportReport
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import AdviceLevel
from fbss.knowledge.models import ACT_WHEN, Category, Urgency
from fbss.reasoning.assess import Assessment
from fbss.reasoning.care_results import PlanStep, Rating, TestSuggestion
from fbss.reasoning.results import CauseResult, Reason
from fbss.reports.care_wording import ADVICE_LABEL, STATE_MARK, lead_reasons, missing, rating_text, reasons
from fbss.reports.safety_view import FlagView, ScreenView, safety_view, screen_headline
from fbss.reports.summary import DecisionSummary, decision_summary
from fbss.reports.wording import (
    COMPETING,
    EVIDENCE_LABEL,
    URGENCY_LABEL,
    calibration_lines,
    cause_percent,
    finding_phrase,
    joined,
    trigger_phrase,
)

# A presentation threshold, not a clinical one: a leading cause at or above it makes the differential card a warning.
STRONG_LEADER = 0.6
TOP_CAUSES = 5
BRIEF = 52  # a title shortened for a summary
LIMIT = 139  # the summary must stay below 140 characters
OVERRIDE_SYSTEM = c.local_system("override-reason")
OVERRIDE_REASONS = [
    CdsCoding(system=OVERRIDE_SYSTEM, code="already-addressed", display="Already assessed or acted on"),
    CdsCoding(system=OVERRIDE_SYSTEM, code="not-applicable", display="Does not apply to this patient"),
    CdsCoding(system=OVERRIDE_SYSTEM, code="data-incorrect", display="The patient data used is wrong or out of date"),
    CdsCoding(system=OVERRIDE_SYSTEM, code="disagree", display="Disagree with the reasoning"),
]
DISCLAIMER = (
    "_Decision support for clinicians: check each reason and source. FBSS Navigator is not a time-critical alarm; "
    "act on red flags through your local urgent pathway._"
)


@dataclass(frozen=True)
class CardContext:
    patient_id: str  # the EHR's id of the patient: never used in a link into the app, whose ids are its own
    hook_instance: str
    app_base_url: str
    unavailable: tuple[str, ...] = ()
    record_number: str | None = None  # the clinic's record number (the Patient's MR identifier), if it has one
    birth_year: int | None = None


MEDICAL_RECORD = ("http://terminology.hl7.org/CodeSystem/v2-0203", "MR")
RECORD_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")


def record_number(patient: object, system: str | None = None) -> str | None:
    """The clinic's record number from a FHIR Patient: the identifier of `system` if one is configured
    (FBSS_CDS_RECORD_SYSTEM), else the one typed MR (medical record number); None if it has none."""
    identifiers = patient.get("identifier") if isinstance(patient, dict) else None
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
            continue
        if system is not None:
            matches = identifier.get("system") == system
        else:
            kind = identifier.get("type")
            codings = kind.get("coding") if isinstance(kind, dict) else None
            matches = any(
                isinstance(c, dict) and (c.get("system"), c.get("code")) == MEDICAL_RECORD
                for c in (codings if isinstance(codings, list) else [])
            )
        if matches and RECORD_NUMBER.fullmatch(identifier["value"]):
            return str(identifier["value"])
    return None


def short(text: str, limit: int = LIMIT) -> str:
    """Text cut at a word boundary to fit a card summary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:—-")
    return cut + "…"


def _md(text: str) -> str:
    """Escape the characters that would break a Markdown table cell or start markup by accident."""
    return text.replace("|", "\\|").replace("\n", " ")


def _sources_md(ids: tuple[str, ...], kb: KnowledgeBase) -> str:
    parts = []
    for sid in ids:
        source = kb.sources.get(sid)
        if source is None:
            continue
        url = source_url(sid, kb)
        parts.append(f"[{_md(source.citation)}]({url})" if url else _md(source.citation))
    return "; ".join(parts) or "no published source (expert estimate)"


def _first_url(ids: tuple[str, ...], kb: KnowledgeBase) -> str | None:
    return next((u for u in (source_url(s, kb) for s in ids) if u), None)


SMART_LAUNCH_PATH = "/smart/launch"


def smart_link(ctx: CardContext) -> Link:
    """The EHR launches the app (SMART App Launch) with this patient: the chart is read into a case draft."""
    url = ctx.app_base_url.rstrip("/") + SMART_LAUNCH_PATH
    return Link(label="Assess in FBSS Navigator with this chart (opens the case draft)", url=url, type="smart")


def _links(ctx: CardContext) -> list[Link]:
    """The SMART launch, and a link to the patient's page in the app by the clinic's record number (the birth year
    checked there) when the EHR sent one: the EHR's own patient id means nothing to the app, whose ids are its own."""
    if ctx.record_number is None:
        return [smart_link(ctx)]
    query = {"record": ctx.record_number} | ({"born": str(ctx.birth_year)} if ctx.birth_year else {})
    url = f"{ctx.app_base_url.rstrip('/')}/patients/lookup?{urlencode(query)}"
    return [Link(label="Open this patient in FBSS Navigator", url=url, type="absolute"), smart_link(ctx)]


def _source(label: str, ids: tuple[str, ...], kb: KnowledgeBase, topic: CdsCoding | None = None) -> Source:
    return Source(label=short(label, 200), url=_first_url(ids, kb), topic=topic)


def _urgent_tests_md(tests: tuple[TestSuggestion, ...], kb: KnowledgeBase) -> list[str]:
    lines = ["**Urgent tests**", ""]
    for test in tests:
        lines.append(f"- **{_md(test.title)}**")
        lines += [f"  - {_md(x.text)}" for x in test.cautions]
        if test.replaces:
            lines.append(f"  - In place of `{test.replaces}`, which is contraindicated.")
        if test.decision_point:
            lines.append(f"  - Then: {_md(test.decision_point)}")
        if test.accuracy:
            lines.append(
                f"  - Accuracy: {_md(test.accuracy.text)} ({EVIDENCE_LABEL[test.accuracy.evidence]}; "
                f"{_sources_md(test.accuracy.sources, kb)})"
            )
    return [*lines, ""]


def red_flag_card(flag: FlagView, kb: KnowledgeBase, ctx: CardContext) -> Card:
    """One fired red flag: its action, the definitive treatment right after it, the urgent tests it calls for and
    those already done, what fired it and its basis."""
    result = flag.flag
    indicator = "critical" if result.urgency is Urgency.emergency else "warning"
    fired = "\n".join(f"- {_md(trigger_phrase(t))}" for t in result.fired_by)
    definitive = [
        f"**Definitive treatment:** {_md(r.title)} — {_md(rating_text(r))}. {_md(lead_reasons(r))}"
        for r in flag.definitive
    ]
    recorded = [f"- Already done: **{_md(d.title)}** — {_md(d.result)}" for d in flag.recorded]
    detail = "\n".join(
        [
            f"**{URGENCY_LABEL[result.urgency]} — {_md(result.title)}**",
            "",
            _md(result.action),
            "",
            *(line for d in definitive for line in (d, "")),
            *(_urgent_tests_md(flag.tests, kb) if flag.tests else []),
            *([*recorded, ""] if recorded else []),
            "**Fired by**",
            "",
            fired,
            "",
            f"**Basis:** {EVIDENCE_LABEL[result.evidence]}; {_sources_md(result.sources, kb)}",
            "",
            "Elective work-up and treatment wait until the red flag has been dealt with.",
            "",
            f"Knowledge base {kb.version}, red flag `{result.flag}`.",
            "",
            DISCLAIMER,
        ]
    )
    lead = flag.definitive[0].title if flag.definitive else result.action
    return Card(
        uuid=str(uuid.uuid4()),
        summary=short(f"{URGENCY_LABEL[result.urgency]}: {result.title} — {lead}"),
        detail=detail,
        indicator=indicator,
        source=_source(
            f"FBSS Navigator red flags ({kb.version})",
            result.sources,
            kb,
            CdsCoding(system=c.RED_FLAG, code=result.flag, display=result.title),
        ),
        overrideReasons=OVERRIDE_REASONS,
        links=_links(ctx),
    )


def screen_card(screen: ScreenView, kb: KnowledgeBase, ctx: CardContext) -> Card:
    """The open red-flag questions as one checklist: not a fired flag."""
    lines = [
        f"- [ ] {_md(q.text)} — a yes raises {_md('; '.join(f.title for f in q.flags))} "
        f"({URGENCY_LABEL[q.urgency].lower()})"
        for q in screen.open
    ]
    first = next(f for f in kb.red_flags if f.id == screen.open[0].flags[0].flag)
    note = (
        [f"{screen.answerable} of these are answered at once by recording the red-flag screen negative.", ""]
        if screen.answerable
        else []
    )
    return Card(
        uuid=str(uuid.uuid4()),
        summary=short(f"{screen.headline}: not a fired flag; answer them before elective care"),
        detail="\n".join(
            [
                "Red-flag questions whose answers are not recorded. Until they are answered, no elective option "
                "is rated appropriate.",
                "",
                *lines,
                "",
                *note,
                DISCLAIMER,
            ]
        ),
        indicator="info",
        source=_source(f"FBSS Navigator red-flag screen ({kb.version})", first.sources, kb),
        overrideReasons=OVERRIDE_REASONS,
        links=_links(ctx),
    )


def _reason_list(reasons: tuple[Reason, ...]) -> str:
    return "; ".join(
        f"{_md(finding_phrase(r.title, r.state, r.observed))} (LR {r.likelihood_ratio:g})" for r in reasons
    )


def summary_markdown(summary: DecisionSummary) -> list[str]:
    """The decision summary as the head of a card: act now, likely causes, next test, options to discuss."""
    lines = ["**Decision summary**", ""]
    lines += [
        f"- **{ACT_WHEN[f.urgency]}:** {_md(URGENCY_LABEL[f.urgency])} — {_md(f.title)}: {_md(f.action)}"
        for f in summary.act_now
    ]
    if summary.screen and summary.level is Urgency.emergency:  # secondary to the emergency: one line
        lines.append(
            f"- **{_md(screen_headline(len(summary.screen)))}:** to ask once the emergency action is under way "
            "(see the *red-flag screen* card)"
        )
    elif summary.screen:
        lines.append(f"- **{_md(screen_headline(len(summary.screen)))}:** {_md(joined(summary.screen))}")
    if not summary.act_now and not summary.screen:
        lines.append("- **Act now:** no red flag fired, and none is waiting on an unknown answer.")
    causes = "; ".join(
        f"{_md(c.title)} {c.percent}" + (f" ({_md(', '.join(c.reasons))})" if c.reasons else "") for c in summary.causes
    )
    lines.append(f"- **Most likely causes:** {causes or _md(summary.not_ranked_text or 'none ranked')}")
    if summary.next_tests:
        label = "Urgent tests" if summary.next_tests[0].urgent else "Next test"
        tests = "; ".join(f"{_md(t.title)}" for t in summary.next_tests)
        then = f" (then: {_md('; '.join(summary.then_tests))})" if summary.then_tests else ""
        lines.append(f"- **{label}:** {tests}{then}")
    options = "; ".join(f"{_md(o.title)} ({o.rating_text})" for o in summary.options)
    waiting = ""
    if summary.options_from == "urgent":
        waiting = " — elective options wait until the red flag has been dealt with"
    if options or waiting:
        lines.append(f"- **Options to discuss:** {options or 'none yet'}{waiting}")
    if summary.scs_advice is not None:
        lines.append(f"- **Spinal cord stimulation:** {ADVICE_LABEL[summary.scs_advice]}")
    return [*lines, ""]


def differential_card(assessment: Assessment, report: ImportReport, kb: KnowledgeBase, ctx: CardContext) -> Card:
    causes: tuple[CauseResult, ...] = assessment.differential.causes[:TOP_CAUSES]
    leader = causes[0]
    show = cause_percent(assessment.differential)
    others = ", ".join(f"{x.title} {show(x.probability)}" for x in causes[1:3])
    summary = f"Most likely cause: {leader.title} ({show(leader.probability)})" + (f"; then {others}" if others else "")
    rows = [
        "| # | Cause | Probability | Range | Raised by | Lowered by |",
        "|---|---|---|---|---|---|",
    ]
    for cause in causes:
        rows.append(
            f"| {cause.rank} | {_md(cause.title)} | {show(cause.probability)} | "
            f"{show(cause.low)}–{show(cause.high)} | {_reason_list(cause.raised_by) or '—'} | "
            f"{_reason_list(cause.lowered_by) or '—'} |"
        )
    cited = tuple(
        dict.fromkeys(s for cause in causes for r in (*cause.raised_by, *cause.lowered_by) for s in r.sources)
    )
    detail = [
        *summary_markdown(decision_summary(assessment)),
        "**Differential**",
        "",
        COMPETING + " Range: the probability if every unknown linked finding went against or for the cause.",
        *calibration_lines(assessment.differential),
        "",
        *rows,
        "",
        f"**Sources:** {_sources_md(cited, kb)}",
    ]
    if assessment.differential.ask_next:
        detail += ["", "**Would change the differential most**", ""]
        detail += [f"- {_md(q.question or q.title)}" for q in assessment.differential.ask_next]
    if ctx.unavailable:
        detail += ["", f"**Not available to this assessment:** {', '.join(ctx.unavailable)}."]
    if report.unmapped:
        detail += [
            "",
            f"{len(report.unmapped)} item(s) of the record could not be read; the full assessment lists them.",
        ]
    detail += [
        "",
        f"Engine {assessment.engine_version}, knowledge base {assessment.knowledge_version} "
        f"({assessment.knowledge_fingerprint}).",
        "",
        DISCLAIMER,
    ]
    top_sources = tuple(s for r in leader.raised_by for s in r.sources) + leader.prior_sources
    return Card(
        uuid=str(uuid.uuid4()),
        summary=short(summary),
        detail="\n".join(detail),
        indicator="warning" if leader.probability >= STRONG_LEADER else "info",
        source=_source(
            f"FBSS Navigator differential ({kb.version})",
            top_sources,
            kb,
            CdsCoding(system=c.CAUSE, code=leader.cause, display=leader.title),
        ),
        overrideReasons=OVERRIDE_REASONS,
        links=_links(ctx),
    )


def brief(title: str, limit: int = BRIEF) -> str:
    """A catalogue title shortened for a summary: no parenthesis or second clause, at most `limit` characters."""
    text = title.split(" (")[0].split("; ")[0]
    if len(text) <= limit:
        return text
    head = text.split(":")[0]
    if ":" in text and len(head) >= 10:
        return head
    return short(text, limit)


def _fit(candidates: list[str]) -> str:
    """The first candidate summary that fits, else the last one cut to fit."""
    return next((x for x in candidates if len(x) <= LIMIT), short(candidates[-1]))


def _listed(items: Sequence[str], n: int) -> str:
    return "; ".join(items[:n])


def _steps(assessment: Assessment, kind: str) -> list[PlanStep]:
    return [s for s in assessment.plan.steps if s.kind == kind]


def next_steps_summary(tests: Sequence[str], options: Sequence[str], refer: Sequence[str] = ()) -> str:
    """'[Treat or refer: <causes>.] Suggested next: <tests>. Rated appropriate: <options>', with as many names as fit
    below 140 characters."""
    if not tests and not options and not refer:
        return "No work-up or option stands out: see the full assessment"
    lead = [f"Treat or refer first: {'; '.join(refer)}"] if refer else []
    candidates = []
    for n_tests, n_options in ((3, 3), (2, 3), (2, 2), (1, 2), (2, 1), (1, 1), (1, 0), (0, 1), (0, 0)):
        parts = list(lead)
        if tests and n_tests:
            parts.append(f"Suggested next: {_listed(tests, n_tests)}")
        if options and n_options:
            parts.append(f"Rated appropriate: {_listed(options, n_options)}")
        if parts:
            candidates.append(". ".join(parts))
    return _fit(candidates)


def next_steps_card(assessment: Assessment, kb: KnowledgeBase, ctx: CardContext) -> Card | None:
    """The plan's next steps when no red flag fired: the work-up in order, then the options rated appropriate."""
    if assessment.triage.fired:
        return None  # elective work-up and treatment wait: the red-flag cards say what to do
    tests = {t.test: t for t in (*assessment.workup.questions, *assessment.workup.ranked)}
    ratings: dict[str, Rating] = {r.id: r for r in assessment.options.options}
    test_steps = [s for s in _steps(assessment, "test") if s.ref in tests]
    deferred = [s for s in _steps(assessment, "test") if s.ref not in tests]
    option_steps = [s for s in _steps(assessment, "treatment") if s.ref in ratings]
    refer = _steps(assessment, "refer")
    causes = {x.cause: x for x in assessment.differential.causes}
    others = [s for s in _steps(assessment, "treatment") if s.ref not in ratings]
    if not (test_steps or deferred or option_steps or refer):
        return None
    detail: list[str] = []
    if assessment.triage.screen.open:
        detail += [
            "Answer the red-flag questions first (see the *red-flag screen* card): while one is open, elective "
            "options are rated at most uncertain.",
            "",
        ]
    cited: list[str] = []
    if test_steps:
        detail += ["**Work-up, in order** (value of information per unit of burden; cheapest and safest first)", ""]
        for step in test_steps:
            test = tests[str(step.ref)]
            detail.append(f"{step.order}. **{_md(test.title)}** (burden {test.burden:g}). {_md(test.why)}")
            if test.accuracy:
                detail.append(
                    f"   - Accuracy: {_md(test.accuracy.text)} ({EVIDENCE_LABEL[test.accuracy.evidence]}; "
                    f"{_sources_md(test.accuracy.sources, kb)})"
                )
                cited += test.accuracy.sources
            detail += [f"   - {_md(x.text)}" for x in test.cautions]
            if test.decision_point:
                detail.append(f"   - Then: {_md(test.decision_point)}")
        more = len(assessment.workup.ranked) + len(assessment.workup.questions) - len(test_steps)
        if more > 0:
            detail.append(f"\n{more} further test(s) of lower value are listed in the full assessment.")
        detail.append("")
    for step in deferred:
        detail += [f"- Deferred: {_md(step.title)}. {_md(step.detail)}", ""]
    for step in refer:
        detail += [f"**{_md(step.title)}.** {_md(step.detail)}", ""]
        cited += step.sources
    if option_steps:
        detail += [
            "**Options rated appropriate** (RAND/UCLA 1-9, in the plan's order: conservative, minimally invasive, "
            "neurostimulation, re-operation)",
            "",
            "| Step | Option | Rating | Because | Then | Sources |",
            "|---|---|---|---|---|---|",
        ]
        for step in option_steps:
            rating = ratings[str(step.ref)]
            detail.append(
                f"| {step.order} | {_md(rating.title)} | {_md(rating_text(rating))} | {_md(reasons(rating))} | "
                f"{_md(step.decision_point or '—')} | {_sources_md(step.sources, kb)} |"
            )
            cited += step.sources
        detail.append("")
    for step in others:
        detail += [f"**{_md(step.title)}:** {_md(step.detail)}", ""]
    if _steps(assessment, "scs"):
        detail += [
            f"**Spinal cord stimulation:** {ADVICE_LABEL[assessment.scs.advice or AdviceLevel.not_recommended]}"
            " — see its card.",
            "",
        ]
    detail += [
        f"Engine {assessment.engine_version}, knowledge base {assessment.knowledge_version} "
        f"({assessment.knowledge_fingerprint}).",
        "",
        DISCLAIMER,
    ]
    extraspinal = {x.cause for x in assessment.differential.causes if x.category is Category.extraspinal}
    summary = next_steps_summary(
        [brief(tests[str(s.ref)].title) for s in test_steps],
        [brief(ratings[str(s.ref)].title) for s in option_steps],
        [causes[str(s.ref)].title for s in refer if str(s.ref) in extraspinal],  # spinal paths: in the detail
    )
    first = test_steps[0] if test_steps else option_steps[0] if option_steps else None
    topic = None
    if first is not None and first.ref in tests:
        topic = CdsCoding(system=c.WORKUP_TEST, code=str(first.ref), display=tests[str(first.ref)].title)
    elif first is not None:
        topic = CdsCoding(system=c.TREATMENT_OPTION, code=str(first.ref), display=ratings[str(first.ref)].title)
    return Card(
        uuid=str(uuid.uuid4()),
        summary=summary,
        detail="\n".join(detail),
        indicator="info",
        source=_source(f"FBSS Navigator work-up and treatment plan ({kb.version})", tuple(cited), kb, topic),
        overrideReasons=OVERRIDE_REASONS,
        links=_links(ctx),
    )


def scs_card(assessment: Assessment, kb: KnowledgeBase, ctx: CardContext) -> Card | None:
    """The SCS advice, when the plan refers for SCS (never while a red flag is fired or a contraindication stops it)."""
    scs = assessment.scs
    steps = _steps(assessment, "scs")
    if not steps or scs.advice is None or assessment.triage.fired:
        return None
    step = steps[0]
    nice_open = sum(n.state is not Presence.present for n in scs.nice)
    caveats = []
    if scs.factors_unknown:
        caveats.append(f"psychosocial factors not assessed: {scs.factors_unknown}")
    if nice_open:
        caveats.append(f"NICE TA159 criteria open: {nice_open}")
    head = f"SCS advice: {ADVICE_LABEL[scs.advice]}"
    summary = _fit(
        [
            f"{head} ({'; '.join(caveats)}). Refer to the multidisciplinary team, then a trial",
            f"{head} ({caveats[0]}). Refer to the multidisciplinary team, then a trial" if caveats else head,
            f"{head}. Refer to the multidisciplinary team, then a trial",
        ]
    )
    factors = [f for f in scs.factors if f.state is not Presence.absent]
    detail = [
        f"**Advice: {ADVICE_LABEL[scs.advice]}** (clinical rating × psychosocial factors).",
        "",
        f"- Clinical: {_md(rating_text(scs.clinical))} — {_md(reasons(scs.clinical))}",
        f"- Psychosocial factors present: {scs.factors_present} of {len(scs.factors)}; not assessed: "
        f"{scs.factors_unknown}"
        + (f" ({'; '.join(f'{_md(f.title)}: {STATE_MARK[f.state]}' for f in factors)})" if factors else ""),
    ]
    if scs.advice_if_unknowns_present is not None and scs.advice_if_unknowns_present is not scs.advice:
        detail.append(
            f"- If every factor not yet assessed were present: {ADVICE_LABEL[scs.advice_if_unknowns_present]}"
        )
    detail += [f"- Condition: {_md(b.because)}" for b in scs.conditions]
    detail += [f"- Still to check: {_md(b.because)}" for b in scs.to_check]
    if missing(scs.clinical):
        detail.append(f"- Missing to decide the clinical rating: {_md(missing(scs.clinical))}")
    detail += ["", "**NICE TA159**", "", "| Criterion | State | How it was read |", "|---|---|---|"]
    detail += [f"| {_md(n.title)} | {STATE_MARK[n.state]} | {_md(n.how)} |" for n in scs.nice]
    basis = scs.advice_basis
    detail += [
        "",
        f"**Next:** {_md(step.title)}. {_md(step.decision_point or '')}",
        "",
        f"**Basis:** {_md(basis.text)} ({EVIDENCE_LABEL[basis.evidence]}; {_sources_md(basis.sources, kb)})",
        "",
        DISCLAIMER,
    ]
    return Card(
        uuid=str(uuid.uuid4()),
        summary=summary,
        detail="\n".join(detail),
        indicator="info",
        source=_source(f"FBSS Navigator SCS candidacy ({kb.version})", basis.sources, kb),
        overrideReasons=OVERRIDE_REASONS,
        links=_links(ctx),
    )


def cards_for(assessment: Assessment, report: ImportReport, kb: KnowledgeBase, ctx: CardContext) -> list[Card]:
    """Red flags first (most urgent first), then the open red-flag screen, the differential, and, when no red flag
    fired, the next steps and the SCS advice."""
    view = safety_view(assessment)
    cards = [red_flag_card(flag, kb, ctx) for flag in view.flags]
    if view.screen.open:
        cards.append(screen_card(view.screen, kb, ctx))
    if assessment.differential.causes:
        cards.append(differential_card(assessment, report, kb, ctx))
    for card in (next_steps_card(assessment, kb, ctx), scs_card(assessment, kb, ctx)):
        if card is not None:
            cards.append(card)
    return cards
