"""Command line for report reading: `fbss extract REPORT.txt` and `fbss nlp evaluate`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fbss.errors import FbssError
from fbss.nlp.evaluate import CORPUS_DIR, evaluate, load_corpus
from fbss.nlp.extract import extract
from fbss.nlp.model import Extraction, extraction_as_dict
from fbss.nlp.text import decode_report

nlp_app = typer.Typer(help="Read imaging and operative reports into proposed findings.", no_args_is_help=True)


class OutputFormat(StrEnum):
    """How `extract` prints its result."""

    text = "text"
    json = "json"


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@nlp_app.command("extract")
def extract_command(
    report: Annotated[Path, typer.Argument(help="A plain-text (UTF-8) report file.")],
    output: Annotated[OutputFormat, typer.Option("--format", help="text (a table) or json.")] = OutputFormat.text,
) -> None:
    """Read one report and list every finding mention with its level, side and negation/uncertainty flags."""
    try:
        data = report.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {report}: {exc.strerror or exc}") from None
    try:
        extraction = extract(decode_report(data))
    except FbssError as exc:
        raise _fail(f"{report}: {exc}") from None
    if output is OutputFormat.json:
        typer.echo(json.dumps(extraction_as_dict(extraction), indent=2, ensure_ascii=False))
    else:
        Console().print(_extraction_table(extraction, report.name))


def _extraction_table(extraction: Extraction, title: str) -> Table:
    modality = extraction.modality or "unknown study"
    contrast = f", {extraction.contrast}" if extraction.contrast else ""
    table = Table(title=f"{title}: {modality}{contrast}", title_justify="left")
    for column in ("finding", "levels", "side", "status", "section", "text"):
        table.add_column(column)
    for finding in extraction.findings:
        status = [name for name in ("negated", "uncertain", "hypothetical", "historical") if getattr(finding, name)]
        table.add_row(
            str(finding.code),
            ", ".join(finding.levels) or "-",
            str(finding.side) if finding.side else "-",
            ", ".join(status) if status else "[green]present[/green]",
            finding.section,
            finding.span.text.replace("\n", " "),
        )
    if not extraction.findings:
        table.caption = "no findings recognised"
    return table


@nlp_app.command("evaluate")
def evaluate_command(
    corpus: Annotated[
        Path, typer.Option("--corpus", help="Folder of annotated *.yaml passages.", file_okay=False)
    ] = CORPUS_DIR,
    errors: Annotated[bool, typer.Option("--errors", help="Also list every disagreement.")] = False,
) -> None:
    """Score the reader on an annotated corpus: precision, recall and F1 per finding, and micro-F1."""
    try:
        passages = load_corpus(corpus)
    except FbssError as exc:
        raise _fail(str(exc)) from None
    result = evaluate(passages)
    table = Table(title=f"Report NLP on {len(passages)} passages ({corpus})", title_justify="left")
    for column in ("finding", "TP", "FP", "FN", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "finding" else "right")
    for code in sorted(result.per_code, key=str):
        counts = result.per_code[code]
        table.add_row(
            str(code),
            str(counts.tp),
            str(counts.fp),
            str(counts.fn),
            f"{counts.precision:.2f}",
            f"{counts.recall:.2f}",
            f"{counts.f1:.2f}",
        )
    micro = result.micro
    table.add_section()
    table.add_row(
        "[bold]micro[/bold]",
        str(micro.tp),
        str(micro.fp),
        str(micro.fn),
        f"{micro.precision:.3f}",
        f"{micro.recall:.3f}",
        f"[bold]{micro.f1:.3f}[/bold]",
    )
    console = Console()
    console.print(table)
    violations = result.negation_violations
    console.print(f"negated or hedged mentions reported as present: {len(violations)}")
    if errors:
        for miss in result.misses:
            console.print(f"  {miss.passage}: {miss.kind} {miss.code} {', '.join(miss.levels)} {miss.text!r}")
