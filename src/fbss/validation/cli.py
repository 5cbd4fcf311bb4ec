"""`fbss validate`: run the differential on the development set of published cases and report its figures."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from fbss.errors import FbssError
from fbss.knowledge.loader import load_knowledge
from fbss.validation.devset import DEFAULT_ROOT, Split, load_devset
from fbss.validation.metrics import Figures, figures
from fbss.validation.record import compare, write_record
from fbss.validation.report import markdown, render_misses, render_text, write_plot
from fbss.validation.run import run

RECORD_FILE = "figures.yaml"


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def validate_command(
    split: Annotated[Split, typer.Option("--split", help="dev, holdout or all (reported separately)")] = Split.dev,
    output: Annotated[Format, typer.Option("--format", "-f", help="text, json or markdown")] = Format.text,
    root: Annotated[Path, typer.Option("--set", help="Development-set directory")] = DEFAULT_ROOT,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the reliability plot here (.png, or .html with the tables)")
    ] = None,
    misses: Annotated[bool, typer.Option("--misses", help="List per-case misses (development split only)")] = False,
    record: Annotated[bool, typer.Option("--record", help=f"Record the figures in <set>/{RECORD_FILE}")] = False,
    check: Annotated[bool, typer.Option("--check", help=f"Fail if a total fell below <set>/{RECORD_FILE}")] = False,
    knowledge: Annotated[Path | None, typer.Option("--knowledge", envvar="FBSS_KNOWLEDGE_DIR")] = None,
) -> None:
    """Top-1/top-3 overall and per cause, confusion, calibration, emergency recall and work-up hit rate."""
    stderr = Console(stderr=True)
    if misses and split is not Split.dev:
        stderr.print("error: per-case misses are shown for the development split only (--split dev)")
        raise typer.Exit(2)
    try:
        kb = load_knowledge(knowledge)
        cases = load_devset(root, Split.all if (record or check) else split)
    except FbssError as exc:
        stderr.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    with Progress(
        TextColumn("Assessing published cases"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
        transient=True,
    ) as progress:
        task = progress.add_task("assess", total=len(cases))
        outcomes = run(cases, kb, lambda: progress.advance(task))
    names = ["dev", "holdout"] if split is Split.all or record or check else [split.value]
    by_split: dict[str, Figures] = {s: figures([o for o in outcomes if o.split == s]) for s in names}
    if output is Format.json:
        data = {s: f.as_json() for s, f in by_split.items()}
        sys.stdout.write(json.dumps({"knowledge_version": kb.version, "splits": data}, ensure_ascii=False) + "\n")
    elif output is Format.markdown:
        sys.stdout.write(markdown(by_split))
    else:
        render_text(by_split, Console())
        if misses:
            render_misses(outcomes, Console())
    if plot is not None:
        write_plot(by_split, plot)
    if record:
        write_record(outcomes, root / RECORD_FILE, kb.version)
        stderr.print(f"recorded the figures of {len(outcomes)} cases in {root / RECORD_FILE}")
    if check:
        drops = compare(outcomes, root / RECORD_FILE)
        for drop in drops:
            stderr.print(f"{drop.check} fell from {drop.recorded} to {drop.now}; now wrong: {', '.join(drop.lost)}")
        if drops:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)
