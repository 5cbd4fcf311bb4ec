"""The assessment in a terminal, with Rich: red flags first, then the ranked differential and what to ask next."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment
from fbss.reasoning.results import CauseResult, RedFlagResult
from fbss.reports.care_terminal import render_options, render_plan, render_scs, render_workup
from fbss.reports.wording import (
    COMPETING,
    EVIDENCE_LABEL,
    URGENCY_LABEL,
    calibration_lines,
    cause_percent,
    finding_phrase,
)

SHOWN_CAUSES = 8


def _flag_panel(flag: RedFlagResult, kb: KnowledgeBase) -> Panel:
    lines = Text()
    lines.append(flag.action + "\n")
    if flag.fired_by:
        lines.append("Fired by: ", style="bold")
        lines.append(", ".join(t.title + (f" [{t.observed}]" if t.observed is not None else "") for t in flag.fired_by))
        lines.append("\n")
    if flag.ask_about:
        lines.append("Ask now: ", style="bold")
        lines.append("; ".join(q.question or q.title for q in flag.ask_about))
        lines.append("\n")
    cites = ", ".join(kb.sources[s].citation.split(".")[0] for s in flag.sources) or "no published source"
    lines.append(f"Basis: {EVIDENCE_LABEL[flag.evidence]}; {cites}", style="dim")
    style = "red" if flag.status == "fired" else "yellow"
    label = (
        URGENCY_LABEL[flag.urgency] if flag.status == "fired" else f"ASK NOW ({URGENCY_LABEL[flag.urgency].lower()})"
    )
    return Panel(lines, title=f"[bold]{label}[/] {flag.title}", border_style=style, title_align="left")


def _cause_row(cause: CauseResult, percent: Callable[[float], str]) -> tuple[str, str, str, str, str]:
    up = "; ".join(
        finding_phrase(r.title, r.state, r.observed) + f" ×{r.likelihood_ratio:g}" for r in cause.raised_by[:4]
    )
    down = "; ".join(
        finding_phrase(r.title, r.state, r.observed) + f" ×{r.likelihood_ratio:g}" for r in cause.lowered_by[:3]
    )
    return (
        str(cause.rank),
        cause.title,
        f"{percent(cause.probability)}\n[dim]{percent(cause.low)}–{percent(cause.high)}[/]",
        up or "—",
        down or "—",
    )


def render_assessment(assessment: Assessment, kb: KnowledgeBase, console: Console) -> None:
    """Print one assessment."""
    header = f"[bold]Case {assessment.case_id}[/]"
    if assessment.derived.months_since_surgery is not None:
        header += (
            f" · {assessment.derived.months_since_surgery:.1f} months after {assessment.derived.surgery_group.value}"
        )
    console.rule(header)
    triage = assessment.triage
    if triage.fired:
        console.print(Text(f"RED FLAGS: act {URGENCY_LABEL[triage.fired[0].urgency]}", style="bold red"))
    for flag in (*triage.fired, *triage.ask_now):
        console.print(_flag_panel(flag, kb))
    if not triage.fired and not triage.ask_now:
        console.print("[green]No red flag fired, and none is waiting on an unknown answer.[/]")

    table = Table(title="Likely causes (competing for the main explanation)", show_lines=True, expand=True)
    for name, kwargs in (
        ("#", {"justify": "right", "width": 3}),
        ("Cause", {"ratio": 2}),
        ("Probability\n[dim]range with unknowns[/]", {"justify": "right", "width": 14}),
        ("Raised by", {"ratio": 3}),
        ("Lowered by", {"ratio": 3}),
    ):
        table.add_column(name, **kwargs)
    show = cause_percent(assessment.differential)
    for cause in assessment.differential.causes[:SHOWN_CAUSES]:
        table.add_row(*_cause_row(cause, show))
    console.print(table)
    for line in (COMPETING, *calibration_lines(assessment.differential)):
        console.print(f"[dim]{line}[/]", highlight=False)
    if assessment.differential.excluded:
        names = ", ".join(e.cause.replace("_", " ") for e in assessment.differential.excluded)
        console.print(f"[dim]Not applicable to this operation: {names}[/]")
    if assessment.differential.ask_next:
        asks = Group(*(Text(f"• {q.question or q.title}") for q in assessment.differential.ask_next))
        console.print(Panel(asks, title="Would change the differential most", border_style="cyan", title_align="left"))
    render_workup(assessment.workup, kb, console)
    render_options(assessment.options, console)
    render_scs(assessment.scs, kb, console)
    render_plan(assessment.plan, console)
    console.print(
        f"[dim]Engine {assessment.engine_version} · knowledge base {assessment.knowledge_version} "
        f"({assessment.knowledge_fingerprint}) · decision support for clinicians: check each reason and source.[/]"
    )


def render_plan_only(assessment: Assessment, kb: KnowledgeBase, console: Console) -> None:
    """The red flags and the stepped plan, for `fbss plan`."""
    console.rule(f"[bold]Care plan for case {assessment.case_id}[/]")
    for flag in (*assessment.triage.fired, *assessment.triage.ask_now):
        console.print(_flag_panel(flag, kb))
    render_plan(assessment.plan, console)
