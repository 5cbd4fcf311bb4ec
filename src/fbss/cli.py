"""The `fbss` command line: assess cases, print the case schema, inspect the knowledge base."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from fbss.case.model import Case
from fbss.case.parse import read_case
from fbss.cohort.cli import register as register_cohort
from fbss.errors import FbssError
from fbss.fhir.cli import register as register_fhir
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import load_knowledge
from fbss.reasoning.assess import assess
from fbss.reports.data import to_data
from fbss.reports.markdown import render_markdown, render_plan_markdown
from fbss.reports.terminal import render_assessment, render_plan_only
from fbss.store import cli as store_cli
from fbss.validation.cli import register as register_validation

app = typer.Typer(
    help="FBSS Navigator: decision support for persistent pain after spine surgery.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
knowledge_app = typer.Typer(help="Inspect and validate the knowledge base.", no_args_is_help=True)
app.add_typer(knowledge_app, name="knowledge")
store_cli.register(app)


def _register_report_reading() -> None:
    """`fbss extract REPORT.txt` and `fbss nlp evaluate`: report text to proposed findings."""
    from fbss.nlp.cli import extract_command, nlp_app

    app.command("extract", help="Read an imaging or operative report into proposed findings.")(extract_command)
    app.add_typer(nlp_app, name="nlp")


_register_report_reading()
register_fhir(app)
register_cohort(app)
register_validation(app)

stdout = Console(soft_wrap=False)
stderr = Console(stderr=True)

KnowledgeOption = Annotated[
    Path | None,
    typer.Option(
        "--knowledge",
        help="Knowledge-base directory (default: the packaged one)",
        envvar="FBSS_KNOWLEDGE_DIR",
    ),
]


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _kb(directory: Path | None) -> KnowledgeBase:
    return load_knowledge(directory)


def _dated(case: Case) -> Case:
    """Cases without an assessment date are assessed as of today."""
    if case.assessment_date is None:
        return case.model_copy(update={"assessment_date": dt.date.today()})
    return case


@app.command("assess")
def assess_command(
    cases: Annotated[list[Path], typer.Argument(help="Case JSON files", show_default=False)],
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="text, json (one line per case) or markdown")
    ] = (OutputFormat.text),
    knowledge: KnowledgeOption = None,
) -> None:
    """Assess cases: red flags, differential, work-up, option ratings, SCS advice and the stepped plan."""
    kb = _kb(knowledge)
    failures = 0
    show_progress = len(cases) > 1 and stderr.is_terminal
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("Assessing", total=len(cases))
        for path in cases:
            try:
                case = _dated(read_case(path))
            except FbssError as exc:
                failures += 1
                stderr.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
                progress.advance(task)
                continue
            assessment = assess(case, kb)
            if output is OutputFormat.json:
                sys.stdout.write(json.dumps(to_data(assessment, kb), ensure_ascii=False) + "\n")
            elif output is OutputFormat.markdown:
                sys.stdout.write(render_markdown(assessment, kb) + "\n")
            else:
                render_assessment(assessment, kb, stdout)
            progress.advance(task)
    if failures:
        if len(cases) > 1:
            stderr.print(f"{failures} of {len(cases)} case(s) could not be read", highlight=False)
        raise typer.Exit(1)


@app.command("plan")
def plan_command(
    case_path: Annotated[Path, typer.Argument(help="Case JSON file", show_default=False)],
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="text, json or markdown")] = OutputFormat.text,
    knowledge: KnowledgeOption = None,
) -> None:
    """The stepped care plan for one case: red-flag actions, work-up, treatments, follow-up, option grid."""
    kb = _kb(knowledge)
    assessment = assess(_dated(read_case(case_path)), kb)
    if output is OutputFormat.json:
        data = to_data(assessment.plan, kb)
        data = {"case_id": assessment.case_id, "knowledge_version": assessment.knowledge_version, **data}
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    elif output is OutputFormat.markdown:
        sys.stdout.write(render_plan_markdown(assessment) + "\n")
    else:
        render_plan_only(assessment, kb, stdout)


class ReportKind(StrEnum):
    clinician = "clinician"
    handout = "handout"


@app.command("report")
def report_command(
    case_file: Annotated[Path, typer.Argument(help="Case JSON file", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write: .pdf or .html")],
    kind: Annotated[ReportKind, typer.Option(help="clinician report or patient handout")] = ReportKind.clinician,
    lang: Annotated[str, typer.Option(help="Language: en or es")] = "en",
    page: Annotated[str, typer.Option(help="Page size: A4 or Letter")] = "A4",
    knowledge: KnowledgeOption = None,
) -> None:
    """Write the clinician report or the patient handout of one case as PDF or HTML."""
    from fbss.reports.documents import clinician_report_html, patient_handout_html, to_pdf

    kb = _kb(knowledge)
    assessment = assess(_dated(read_case(case_file)), kb)
    if kind is ReportKind.clinician:
        html = clinician_report_html(assessment, kb, lang=lang, page=page)
    else:
        html = patient_handout_html(assessment, kb, lang=lang, page=page)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html"):
        raise FbssError(f"--out: expected a file name ending in .pdf or .html, got '{out.name}'")
    try:
        if suffix == ".pdf":
            out.write_bytes(to_pdf(html))
        else:
            out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise FbssError(f"--out: cannot write {out} ({exc.strerror})") from None
    stderr.print(f"wrote {out}", highlight=False)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Add demo patients and demo accounts")] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Database URL (default FBSS_DATABASE_URL; with --demo, its own demo file)"),
    ] = None,
) -> None:
    """Start the clinic web app (migrates the database first; --demo adds demo patients and accounts)."""
    from fbss.web.server import serve

    serve(host, port, demo=demo, database=database)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of a case."""
    sys.stdout.write(json.dumps(Case.model_json_schema(), indent=2) + "\n")


@knowledge_app.command("validate")
def knowledge_validate(
    directory: Annotated[Path | None, typer.Argument(help="Directory (default: packaged)")] = None,
) -> None:
    """Load and check every knowledge file; print a summary or the first problem."""
    kb = _kb(directory)
    stdout.print(
        f"knowledge base {kb.version} ({kb.fingerprint}) is valid: {len(kb.findings)} findings, "
        f"{len(kb.causes)} causes, {len(kb.red_flags)} red flags, {len(kb.sources)} sources in {len(kb.files)} files"
    )


@knowledge_app.command("list")
def knowledge_list(
    kind: Annotated[str, typer.Option(help="causes, red-flags, findings or sources")] = "causes",
    knowledge: KnowledgeOption = None,
) -> None:
    """List entries of one kind."""
    kb = _kb(knowledge)
    table = Table(show_lines=False)
    if kind == "causes":
        for col in ("id", "title", "category", "links"):
            table.add_column(col)
        for cause in kb.causes:
            table.add_row(cause.id, cause.title, cause.category.value, str(len(cause.links)))
    elif kind == "red-flags":
        for col in ("id", "title", "urgency", "evidence"):
            table.add_column(col)
        for flag in kb.red_flags:
            table.add_row(flag.id, flag.title, flag.urgency.value, flag.evidence.value)
    elif kind == "findings":
        for col in ("id", "title", "group"):
            table.add_column(col)
        for finding in kb.findings.values():
            table.add_row(finding.id, finding.title, finding.group.value)
    elif kind == "sources":
        for col in ("id", "citation"):
            table.add_column(col)
        for source in kb.sources.values():
            table.add_row(source.id, source.citation)
    else:
        raise FbssError(f"--kind: expected causes, red-flags, findings or sources, got '{kind}'")
    stdout.print(table)


@knowledge_app.command("compare")
def knowledge_compare(knowledge: KnowledgeOption = None) -> None:
    """The main kinds of treatment side by side: the same table for every patient (as on the handout)."""
    kb = _kb(knowledge)
    if kb.education is None:
        raise FbssError("the knowledge base has no patient_education.yaml, which holds the comparison")
    comparison = kb.education.comparison
    table = Table(title=comparison.title, show_lines=True)
    table.add_column("")
    for part in comparison.parts:
        table.add_column(comparison.columns[part])
    for family in comparison.families:
        table.add_row(family.name, *(getattr(family, part) for part in comparison.parts))
    stdout.print(table)
    stdout.print(comparison.intro)


@knowledge_app.command("show")
def knowledge_show(
    entry_id: Annotated[str, typer.Argument(help="Entry id")], knowledge: KnowledgeOption = None
) -> None:
    """Show one entry (cause, red flag, finding or source) in full, as YAML-like JSON."""
    kb = _kb(knowledge)
    try:
        entry = kb.entry(entry_id)
    except KeyError:
        raise FbssError(f"no knowledge entry with id '{entry_id}'; see `fbss knowledge list`") from None
    sys.stdout.write(json.dumps(entry.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    """Entry point: run the app; report project errors in one line, never a traceback.

    Every file the command line creates (database, backups, exports, reports) is readable by its owner only."""
    os.umask(0o077)
    try:
        app()
    except FbssError as exc:
        stderr.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
