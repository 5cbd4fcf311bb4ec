"""The care-planning sections in a terminal: work-up, option ratings, SCS advice and the stepped plan."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.care_results import OptionRatings, Plan, ScsAdvice, Workup
from fbss.reports.care_wording import ADVICE_LABEL, LABEL_STYLE, STATE_MARK, missing, rating_text, reasons
from fbss.reports.wording import EVIDENCE_LABEL, joined

SHOWN_TESTS = 8
SHOWN_OPTIONS = 12


def _cite(ids: tuple[str, ...], kb: KnowledgeBase) -> str:
    return ", ".join(kb.sources[s].citation.split(".")[0] for s in ids if s in kb.sources)


def render_workup(work: Workup, kb: KnowledgeBase, console: Console) -> None:
    """Urgent tests first, then the ranked work-up, then what waits and what is not suggested."""
    for test in work.urgent:
        lines = Text(test.why + "\n")
        for caution in test.cautions:
            lines.append(f"• {caution.text}\n", style="yellow")
        console.print(Panel(lines, title=f"[bold]URGENT TEST[/] {test.title}", border_style="red", title_align="left"))
    for done in work.recorded:
        console.print(f"[bold]Already done[/] (not ordered again): {done.title} — {done.result}")
    if work.ranked:
        table = Table(title="Work-up, ranked by value of information per burden", show_lines=True, expand=True)
        table.add_column("#", justify="right", width=3)
        table.add_column("Test", ratio=2)
        table.add_column("Why: what it could change", ratio=4)
        table.add_column("Burden", justify="right", width=7)
        for test in work.ranked[:SHOWN_TESTS]:
            why = test.why
            if test.accuracy:
                why += f"\n[dim]Accuracy: {test.accuracy.text} ({EVIDENCE_LABEL[test.accuracy.evidence]})[/]"
            for caution in test.cautions:
                why += f"\n[yellow]• {caution.text}[/]"
            if test.decision_point:
                why += f"\n[cyan]Then: {test.decision_point}[/]"
            table.add_row(str(test.rank), test.title, why, f"{test.burden:g}")
        console.print(table)
    if work.questions:
        asked = "; ".join(q.title for q in work.questions[:SHOWN_TESTS])
        console.print(f"[bold]Ask and examine at the visit:[/] {asked}")
    for aside in work.deferred:
        console.print(f"[yellow]Deferred:[/] {aside.title} — {aside.reason}")
    if work.not_suggested:
        names = "; ".join(a.title.split(" (")[0] for a in work.not_suggested)
        console.print(
            f"[dim]Not suggested now (contraindicated, already known, or could not change management): {names}[/]"
        )


def render_options(ratings: OptionRatings, console: Console) -> None:
    """The four panel categories, then the specific options."""
    table = Table(title="Appropriateness of the four panel categories (RAND/UCLA 1-9)", show_lines=True, expand=True)
    table.add_column("Category", ratio=1, min_width=14)
    table.add_column("Rating", ratio=2)
    table.add_column("Because", ratio=4)
    table.add_column("Missing to decide", ratio=2)
    for r in ratings.categories:
        table.add_row(r.title, f"[{LABEL_STYLE[r.label]}]{rating_text(r)}[/]", reasons(r), missing(r) or "—")
    console.print(table)
    table = Table(title="Specific options (every score an expert estimate)", show_lines=False, expand=True)
    table.add_column("Option", ratio=2)
    table.add_column("Score", width=16)
    table.add_column("Because", ratio=4)
    for r in ratings.options[:SHOWN_OPTIONS]:
        table.add_row(r.title, f"[{LABEL_STYLE[r.label]}]{r.label.value} {r.score}/9[/]", reasons(r, 2))
    console.print(table)


def render_scs(scs: ScsAdvice, kb: KnowledgeBase, console: Console) -> None:
    """SCS candidacy: advice, why, the NICE TA159 check and what is missing."""
    lines = Text()
    if scs.advice is None:
        lines.append("SCS advice stopped: ", style="bold red")
        lines.append("; ".join(b.because for b in scs.stopped_by) + "\n")
    else:
        lines.append(f"Advice: {ADVICE_LABEL[scs.advice]}", style="bold")
        if scs.advice_if_unknowns_present and scs.advice_if_unknowns_present is not scs.advice:
            lines.append(f" (if the unassessed factors were present: {ADVICE_LABEL[scs.advice_if_unknowns_present]})")
        lines.append("\n")
    lines.append(f"Clinical: {rating_text(scs.clinical)} — {reasons(scs.clinical)}\n")
    present = [f.title for f in scs.factors if f.state.value == "present"]
    lines.append(
        f"Psychosocial factors present: {len(present)} of {len(scs.factors)}"
        + (f" ({', '.join(present)})" if present else "")
        + f"; not assessed: {scs.factors_unknown}\n"
    )
    for basis in scs.conditions:
        lines.append(f"Condition: {basis.because}\n", style="yellow")
    lines.append("NICE TA159: ", style="bold")
    lines.append("; ".join(f"{n.title} — {STATE_MARK[n.state]}" for n in scs.nice) + "\n")
    if scs.missing:
        lines.append("Missing to decide: ", style="bold")
        lines.append(joined(scs.missing) + "\n")
    lines.append(
        f"Basis: {scs.advice_basis.text} ({EVIDENCE_LABEL[scs.advice_basis.evidence]}; "
        f"{_cite(scs.advice_basis.sources, kb)})",
        style="dim",
    )
    console.print(Panel(lines, title="Spinal cord stimulation candidacy", border_style="magenta", title_align="left"))


def render_plan(plan: Plan, console: Console) -> None:
    """The stepped plan, follow-up, outcomes and the patient's option grid."""
    steps = []
    for step in plan.steps:
        text = Text(f"{step.order}. ", style="bold")
        style = {"red_flag": "bold red", "definitive": "bold magenta", "screen": "bold yellow"}.get(step.kind, "bold")
        text.append(step.title, style=style)
        text.append(f"\n   {step.detail}")
        if step.decision_point:
            text.append(f"\n   Then: {step.decision_point}", style="cyan")
        steps.append(text)
    console.print(Panel(Group(*steps), title="Stepped care plan", border_style="green", title_align="left"))
    follow = "; ".join(f"{f.at}: {f.what}" for f in plan.follow_up)
    outcomes = "; ".join(f"{o.title} ({o.instrument}; {o.change})" for o in plan.outcomes)
    console.print(f"[bold]Follow-up:[/] {follow}")
    console.print(f"[bold]Outcomes to collect:[/] {outcomes}")
    if plan.grid:
        table = Table(title="Option grid for the patient", show_lines=True, expand=True)
        for name in ("Option", "What it involves", "Chance of benefit", "Risks", "Recovery"):
            table.add_column(name)
        for row in plan.grid:
            table.add_row(
                f"{row.title}\n[dim]{row.label.value} {row.score}/9, {row.score_basis}[/]",
                row.involves,
                row.benefit,
                row.risks,
                row.recovery,
            )
        console.print(table)
