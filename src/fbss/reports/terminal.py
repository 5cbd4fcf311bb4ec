"""The assessment in a terminal, with Rich: red flags first, then the ranked differential and what to ask next."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment
from fbss.reasoning.results import CauseResult
from fbss.reports.care_terminal import render_options, render_plan, render_scs, render_workup
from fbss.reports.care_wording import lead_reasons, rating_text
from fbss.reports.safety_view import FlagView, ScreenView, safety_view
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

SHOWN_CAUSES = 8


def _flag_panel(view: FlagView, kb: KnowledgeBase) -> Panel:
    flag = view.flag
    lines = Text()
    lines.append(flag.action + "\n")
    for rating in view.definitive:
        lines.append("Definitive treatment: ", style="bold")
        lines.append(f"{rating.title} — {rating_text(rating)}. {lead_reasons(rating)}\n")
    for test in view.tests:
        lines.append("Order now: ", style="bold")
        lines.append(test.title + "\n")
    for done in view.recorded:
        lines.append("Already done: ", style="bold")
        lines.append(f"{done.title}: {done.result}\n")
    if flag.fired_by:
        lines.append("Fired by: ", style="bold")
        lines.append(fired_by_text(flag, ", "))
        lines.append("\n")
    cites = ", ".join(kb.sources[s].citation.split(".")[0] for s in flag.sources) or "no published source"
    lines.append(f"Basis: {EVIDENCE_LABEL[flag.evidence]}; {cites}", style="dim")
    return Panel(
        lines, title=f"[bold]{URGENCY_LABEL[flag.urgency]}[/] {flag.title}", border_style="red", title_align="left"
    )


def _screen_panel(screen: ScreenView) -> Panel | None:
    """The open red-flag questions as one checklist (yellow), apart from the fired flags (red)."""
    if not screen.open:
        return None
    lines = Text()
    for q in screen.open:
        at_stake = ", ".join(f.title for f in q.flags)
        lines.append(f"☐ {q.text}", style="bold" if q.urgency is Urgency.emergency else "")
        lines.append(f"  — a yes raises: {at_stake} ({URGENCY_LABEL[q.urgency].lower()})\n", style="dim")
    if screen.answerable:
        lines.append(
            f"{screen.answerable} of these are answered at once by recording the screen negative.", style="dim"
        )
    return Panel(lines, title=f"[bold]{screen.headline}[/]", border_style="yellow", title_align="left")


def _red_flags(assessment: Assessment, kb: KnowledgeBase, console: Console) -> None:
    view = safety_view(assessment)
    if view.flags:
        console.print(Text(f"RED FLAGS: act {URGENCY_LABEL[view.flags[0].flag.urgency]}", style="bold red"))
    for flag in view.flags:
        console.print(_flag_panel(flag, kb))
    panel = _screen_panel(view.screen)
    if panel is not None:
        console.print(panel)
    elif not view.flags:
        console.print(f"[green]No red flag fired. {view.screen.headline}.[/]")


def _cause_row(cause: CauseResult, percent: Callable[[float], str]) -> tuple[str, str, str, str, str]:
    up = "; ".join(reason_with_ratio(r, "×") for r in cause.raised_by[:4])
    down = "; ".join(reason_with_ratio(r, "×") for r in cause.lowered_by[:3])
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
    derived = assessment.derived
    header += f" · {since_surgery_text(derived.months_since_surgery, derived.surgery_group.value)}"
    console.rule(header)
    _red_flags(assessment, kb, console)

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
    if assessment.differential.not_ranked:
        console.print(Panel(assessment.differential.not_ranked, title="Likely causes", border_style="cyan"))
    else:
        console.print(table)
        for line in (COMPETING, *calibration_lines(assessment.differential)):
            console.print(f"[dim]{line}[/]", highlight=False)
    if assessment.differential.excluded:
        names = ", ".join(e.cause.replace("_", " ") for e in assessment.differential.excluded)
        console.print(f"[dim]Not applicable to this operation: {names}[/]")
    if ask_next(assessment):
        asks = Group(*(Text(f"• {q.question or q.title}") for q in ask_next(assessment)))
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
    _red_flags(assessment, kb, console)
    render_plan(assessment.plan, console)
