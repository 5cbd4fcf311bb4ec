"""`fbss cohort run`, `fbss cohort report` and `fbss synth`: the command line of cohort screening."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from fbss.cli_input import optional_date
from fbss.errors import FbssError

if TYPE_CHECKING:
    from fbss.cohort.local import RunSummary

cohort_app = typer.Typer(help="Screen a whole population: bulk FHIR in, one assessment row per patient out.")
stderr = Console(stderr=True)


class Engine(StrEnum):
    local = "local"
    spark = "spark"


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
        transient=False,
    )


def print_summary(summary: RunSummary, console: Console = stderr) -> None:
    """The end-of-run table, then the first skipped lines and where the full list is."""
    table = Table(title=f"Cohort run → {summary.out}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("patients", f"{summary.patients:,}")
    for status in ("assessed", "not_applicable", "failed"):
        table.add_row(f"  {status.replace('_', ' ')}", f"{summary.statuses.get(status, 0):,}")
    table.add_row("with a red flag fired", f"{summary.red_flag_patients:,}")
    table.add_row("lines skipped", f"{summary.problem_count:,}")
    if summary.buckets:
        table.add_row("buckets (done before this run)", f"{summary.buckets} ({summary.buckets_resumed})")
    total = sum(summary.seconds.values())
    table.add_row("seconds", f"{total:,.1f}")
    if total > 0:
        table.add_row("patients per second", f"{summary.patients / total:,.0f}")
    console.print(table)
    for problem in summary.problems[:10]:
        console.print(f"  skipped {problem.file}:{problem.line}: {problem.reason}", highlight=False, soft_wrap=True)
    if summary.problem_count:
        console.print(
            f"all {summary.problem_count:,} skipped line(s) are listed in {summary.errors_file}", highlight=False
        )


@cohort_app.command("run")
def run_command(
    export_dir: Annotated[str, typer.Argument(help="Directory of a FHIR Bulk Data export (*.ndjson)")],
    out: Annotated[
        str, typer.Option("--out", "-o", help="Result Parquet (local: a file; spark: a directory, path or URI)")
    ],
    engine: Annotated[Engine, typer.Option(help="local (processes on this machine) or spark")] = Engine.local,
    workers: Annotated[int | None, typer.Option(help="Worker processes (local engine; default: all cores)")] = None,
    as_of: Annotated[str | None, typer.Option(help="Assessment date for records without one (default: today)")] = None,
    knowledge: Annotated[
        Path | None, typer.Option(help="Knowledge-base directory (default: packaged)", envvar="FBSS_KNOWLEDGE_DIR")
    ] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Local engine work directory (default: OUT.work)")] = None,
    keep_work: Annotated[bool, typer.Option(help="Keep the work directory after a successful run")] = False,
    spark_master: Annotated[
        str | None, typer.Option(help="Spark master (default: spark-submit's, else local[*])")
    ] = None,
    partitions: Annotated[
        int | None, typer.Option(help="Spark partitions of patients (default: 4 per core, one per 32 MB of NDJSON)")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Validate every element of every resource against the full FHIR R4 models (slower); by default only"
            " the elements read are validated, and the names of all top-level elements (docs/cohort.md)",
        ),
    ] = False,
) -> None:
    """Assess every patient of a bulk FHIR export; an interrupted local run resumes when run again."""
    if workers is not None and workers < 1:
        raise FbssError(f"--workers: expected at least 1, got {workers}")
    from fbss.fhir.resources import Validation

    when = optional_date(as_of, "--as-of")
    validation = Validation.strict if strict else Validation.lean
    if engine is Engine.spark:
        try:
            from fbss.cohort.spark import run_spark
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] not in ("pyspark", "pyarrow", "pandas"):
                raise
            raise FbssError(
                "--engine spark needs PySpark and PyArrow, an optional extra: install it with `uv sync --extra spark` "
                "(or pip install 'fbss-navigator[spark]'), or use --engine local"
            ) from None

        stderr.print("starting Spark…", highlight=False)
        summary = run_spark(
            export_dir,
            out,
            master=spark_master,
            partitions=partitions,
            as_of=when,
            knowledge_dir=knowledge,
            validation=validation,
        )
    else:
        from fbss.cohort.local import run_local

        with _progress() as progress:
            tasks: dict[str, TaskID] = {}

            def advance(phase: str, amount: float, total: float | None) -> None:
                if phase not in tasks:
                    label = "Reading and grouping (bytes)" if phase == "stage" else "Assessing patients"
                    tasks[phase] = progress.add_task(label, total=total)
                if total is not None:
                    progress.update(tasks[phase], total=total)
                progress.advance(tasks[phase], amount)

            summary = run_local(
                Path(export_dir),
                Path(out),
                workers=workers,
                as_of=when,
                knowledge_dir=knowledge,
                work_dir=work_dir,
                keep_work=keep_work,
                validation=validation,
                advance=advance,
            )
    print_summary(summary)


@cohort_app.command("report")
def report_command(
    results: Annotated[Path, typer.Argument(help="Result Parquet file or directory of `fbss cohort run`")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML report to write")] = Path("report.html"),
) -> None:
    """Counts and rates by cause, red flag, advice and clinic, with charts, as one HTML file."""
    from fbss.cohort.report import cohort_report_html, summarise

    summary = summarise(results)
    try:
        out.write_text(cohort_report_html(summary), encoding="utf-8")
    except OSError as exc:
        raise FbssError(f"--out: cannot write {out} ({exc.strerror})") from None
    stderr.print(f"wrote {out} ({summary.patients:,} patients)", highlight=False)


def synth_command(
    patients: Annotated[int, typer.Option("--patients", "-n", help="How many patients")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the NDJSON files into")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same export")] = 0,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: all cores)")] = None,
) -> None:
    """Write a synthetic population as a FHIR Bulk Data export, built from the example cases."""
    from fbss.cohort.synth import write_population

    with _progress() as progress:
        task = progress.add_task("Writing patients", total=patients)
        counts = write_population(
            patients, out, seed=seed, workers=workers, advance=lambda n: progress.advance(task, n)
        )
    listed = ", ".join(f"{kind} {count:,}" for kind, count in sorted(counts.items()))
    stderr.print(f"wrote {out}: {listed}", highlight=False)


def register(app: typer.Typer) -> None:
    """Mount `fbss cohort …` and `fbss synth` on the main app."""
    app.add_typer(cohort_app, name="cohort")
    app.command("synth", help="Write a seeded synthetic population as a FHIR Bulk Data export.")(synth_command)
