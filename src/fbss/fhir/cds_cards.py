"""An assessment as CDS Hooks cards: one per fired red flag, one for questions to ask now, one for the differential.

Indicators: `critical` for an emergency red flag; `warning` for same-day and within-days red flags and for a
differential whose leading cause is strong; `info` otherwise. Cards format the assessment's own reasons and
sources; they recompute nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from fbss.case.model import Presence
from fbss.fhir import codes as c
from fbss.fhir.cds_models import Card, CdsCoding, Link, Source
from fbss.fhir.citations import source_url
from fbss.fhir.importer import ImportReport
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment
from fbss.reasoning.results import CauseResult, Reason, RedFlagResult
from fbss.reports.wording import EVIDENCE_LABEL, URGENCY_LABEL, finding_phrase, percent

# A presentation threshold, not a clinical one: a leading cause at or above it makes the differential card a warning.
STRONG_LEADER = 0.6
TOP_CAUSES = 5
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
    patient_id: str
    hook_instance: str
    app_base_url: str
    unavailable: tuple[str, ...] = ()


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


def _links(ctx: CardContext) -> list[Link]:
    url = f"{ctx.app_base_url.rstrip('/')}/patients/{quote(ctx.patient_id, safe='')}/assessment"
    return [Link(label="Open the full assessment in FBSS Navigator", url=url, type="absolute")]


def _source(label: str, ids: tuple[str, ...], kb: KnowledgeBase, topic: CdsCoding | None = None) -> Source:
    return Source(label=short(label, 200), url=_first_url(ids, kb), topic=topic)


def red_flag_card(flag: RedFlagResult, kb: KnowledgeBase, ctx: CardContext) -> Card:
    indicator = "critical" if flag.urgency is Urgency.emergency else "warning"
    fired = "\n".join(f"- {_md(finding_phrase(t.title, Presence.present, t.observed))}" for t in flag.fired_by)
    detail = "\n".join(
        [
            f"**{URGENCY_LABEL[flag.urgency]} — {_md(flag.title)}**",
            "",
            _md(flag.action),
            "",
            "**Fired by**",
            "",
            fired,
            "",
            f"**Basis:** {EVIDENCE_LABEL[flag.evidence]}; {_sources_md(flag.sources, kb)}",
            "",
            f"Knowledge base {kb.version}, red flag `{flag.flag}`.",
            "",
            DISCLAIMER,
        ]
    )
    return Card(
        uuid=str(uuid.uuid4()),
        summary=short(f"{URGENCY_LABEL[flag.urgency]}: {flag.title} — {flag.action}"),
        detail=detail,
        indicator=indicator,
        source=_source(
            f"FBSS Navigator red flags ({kb.version})",
            flag.sources,
            kb,
            CdsCoding(system=c.RED_FLAG, code=flag.flag, display=flag.title),
        ),
        overrideReasons=OVERRIDE_REASONS,
        links=_links(ctx),
    )


def ask_now_card(flags: tuple[RedFlagResult, ...], kb: KnowledgeBase, ctx: CardContext) -> Card:
    lines = []
    for flag in flags:
        asks = "; ".join(_md(q.question or q.title) for q in flag.ask_about)
        lines.append(f"- **{_md(flag.title)}** ({URGENCY_LABEL[flag.urgency].lower()} if present): {asks}")
    first = flags[0]
    return Card(
        uuid=str(uuid.uuid4()),
        summary=short(f"Ask now, to rule out: {'; '.join(f.title for f in flags)}"),
        detail="\n".join(
            ["Red flags that cannot be ruled out because their deciding items are unknown:", "", *lines, "", DISCLAIMER]
        ),
        indicator="info",
        source=_source(f"FBSS Navigator red flags ({kb.version})", first.sources, kb),
        overrideReasons=OVERRIDE_REASONS,
        links=_links(ctx),
    )


def _reason_list(reasons: tuple[Reason, ...]) -> str:
    return "; ".join(
        f"{_md(finding_phrase(r.title, r.state, r.observed))} (LR {r.likelihood_ratio:g})" for r in reasons
    )


def differential_card(assessment: Assessment, report: ImportReport, kb: KnowledgeBase, ctx: CardContext) -> Card:
    causes: tuple[CauseResult, ...] = assessment.differential.causes[:TOP_CAUSES]
    leader = causes[0]
    others = ", ".join(f"{x.title} {percent(x.probability)}" for x in causes[1:3])
    summary = f"Most likely cause: {leader.title} ({percent(leader.probability)})" + (
        f"; then {others}" if others else ""
    )
    rows = [
        "| # | Cause | Probability | Range | Raised by | Lowered by |",
        "|---|---|---|---|---|---|",
    ]
    for cause in causes:
        rows.append(
            f"| {cause.rank} | {_md(cause.title)} | {percent(cause.probability)} | "
            f"{percent(cause.low)}–{percent(cause.high)} | {_reason_list(cause.raised_by) or '—'} | "
            f"{_reason_list(cause.lowered_by) or '—'} |"
        )
    cited = tuple(
        dict.fromkeys(s for cause in causes for r in (*cause.raised_by, *cause.lowered_by) for s in r.sources)
    )
    detail = [
        "Each cause is scored on its own (several can coexist). Range: the probability if every unknown linked "
        "finding went against or for the cause.",
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


def cards_for(assessment: Assessment, report: ImportReport, kb: KnowledgeBase, ctx: CardContext) -> list[Card]:
    """Red flags first (most urgent first), then questions to ask now, then the differential."""
    cards = [red_flag_card(flag, kb, ctx) for flag in assessment.triage.fired]
    if assessment.triage.ask_now:
        cards.append(ask_now_card(assessment.triage.ask_now, kb, ctx))
    if assessment.differential.causes:
        cards.append(differential_card(assessment, report, kb, ctx))
    return cards
