"""`fbss fhir import|export` and `fbss cds serve`: FHIR R4 in and out, and the CDS Hooks service on its own."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fbss.case.model import Case
from fbss.cli_input import optional_date
from fbss.errors import FbssError

fhir_app = typer.Typer(
    help="FHIR R4: import a Bundle into a case, export an assessment as a Bundle.", no_args_is_help=True
)
cds_app = typer.Typer(help="The CDS Hooks 2.0 service for the EHR.", no_args_is_help=True)
stderr = Console(stderr=True)


class ImportFormat(StrEnum):
    text = "text"
    json = "json"


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FbssError(f"{path}: cannot read ({exc.strerror})") from None


@fhir_app.command("import")
def import_command(
    bundle: Annotated[Path, typer.Argument(help="FHIR R4 Bundle (JSON)", show_default=False)],
    output: Annotated[
        ImportFormat, typer.Option("--format", "-f", help="text: case JSON, report on stderr; json: {case, report}")
    ] = ImportFormat.text,
    date: Annotated[str | None, typer.Option(help="Assessment date YYYY-MM-DD (default: today)")] = None,
    case_id: Annotated[str | None, typer.Option("--case-id", help="Case id (default: from the Patient)")] = None,
) -> None:
    """Map a Bundle into a case; list every resource, coding or value that could not be mapped, and why."""
    from fbss.fhir.importer import import_bundle
    from fbss.fhir.resources import Validation

    when = optional_date(date, "--date") or dt.date.today()
    # one bundle: every element is validated (Validation.strict), which costs little here and promises the most
    result = import_bundle(_read_bytes(bundle), assessment_date=when, case_id=case_id, validation=Validation.strict)
    case = result.case.model_dump(mode="json", exclude_defaults=True)
    if output is ImportFormat.json:
        data = {"case": case, "report": result.report.model_dump(mode="json")}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write(json.dumps(case, ensure_ascii=False, indent=2) + "\n")
    report = result.report
    stderr.print(f"{len(report.mapped)} item(s) mapped, {len(report.unmapped)} not mapped", highlight=False)
    for item in report.recognised:
        stderr.print(f"recognised: {item}", highlight=False, soft_wrap=True)
    if report.unmapped:
        table = Table(title="Not mapped", show_lines=False)
        for column in ("resource", "element", "coding", "reason"):
            table.add_column(column, overflow="fold")
        for u in report.unmapped:
            table.add_row(u.resource, u.element, u.coding or "", u.reason)
        stderr.print(table)
    for warning in report.warnings:
        stderr.print(f"warning: {warning}", highlight=False, soft_wrap=True)


@fhir_app.command("export")
def export_command(
    source: Annotated[
        str, typer.Argument(metavar="CASE.json|PATIENT", help="A case JSON file, or a patient id in the database")
    ],
    questionnaires: Annotated[
        bool, typer.Option("--questionnaires/--no-questionnaires", help="Include the instruments as Questionnaires")
    ] = True,
    version: Annotated[int | None, typer.Option(help="Case version of a stored patient (default: latest)")] = None,
    database: Annotated[
        str | None, typer.Option("--database", envvar="FBSS_DATABASE_URL", help="Database URL", show_default=False)
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", envvar="FBSS_USER", help="Who is acting, for the audit log")
    ] = None,
) -> None:
    """Assess a case (a file, or a stored patient's case) and print the assessment as a FHIR R4 collection Bundle."""
    from fbss.fhir.exporter import export_assessment
    from fbss.knowledge.loader import default_knowledge

    case = _case_from(source, version, database, user)
    if case.assessment_date is None:
        case = case.model_copy(update={"assessment_date": dt.date.today()})
    bundle = export_assessment(case, default_knowledge(), include_questionnaires=questionnaires)
    sys.stdout.write(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n")


@fhir_app.command("survey")
def survey_command(
    directory: Annotated[Path, typer.Argument(help="A directory of patient Bundles (JSON), searched recursively")],
    output: Annotated[
        ImportFormat, typer.Option("--format", "-f", help="text: a table; json: the figures")
    ] = ImportFormat.text,
) -> None:
    """Draft every patient Bundle in a directory and show, item by item, how many records hold it and how many
    drafts read it; and list any record that crashed the importer (exit status 1 if one did)."""
    from rich.progress import Progress

    from fbss.fhir.survey import ITEMS, bundle_files, iter_crashes, survey

    if not directory.is_dir():
        raise FbssError(f"{directory}: not a directory")
    paths = bundle_files(directory)
    with Progress(console=stderr, transient=True) as progress:
        task = progress.add_task("Drafting cases", total=len(paths))
        result = survey(paths, lambda _path: progress.advance(task))
    if output is ImportFormat.json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
    else:
        console = Console()
        console.print(
            f"{result.records} files: {result.drafted} drafted, {result.not_applicable} not applicable (minors), "
            f"{len(result.rejected)} not patient records, [bold]{len(result.crashes)} crashes[/bold]; "
            f"{result.deceased} deceased patients warned about"
        )
        table = Table("item", "records holding it", "read into the draft", "share read")
        for item in ITEMS:
            held, read = result.held.get(item.name, 0), result.read.get(item.name, 0)
            table.add_row(item.name, str(held), str(read), f"{100 * read / held:.1f} %" if held else "-")
        console.print(table)
    for crash in iter_crashes(result):
        stderr.print(crash)
    if result.crashes:
        raise typer.Exit(1)


def _case_from(source: str, version: int | None, database: str | None, user: str | None) -> Case:
    """A case file if `source` names one, else the stored case of the patient with that id."""
    from fbss.case.parse import read_case

    path = Path(source)
    if path.suffix.lower() == ".json" or path.exists():
        if version is not None:
            raise FbssError("--version applies to a stored patient, not to a case file")
        return read_case(path)
    from fbss.store.config import current_user
    from fbss.store.database import Database
    from fbss.store.repository import Repository

    db = Database.open(database)
    try:
        db.require_current_schema()
        return Repository(db, current_user(user)).case_version(source, version).case()
    finally:
        db.close()


@cds_app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on", envvar="FBSS_CDS_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port", envvar="FBSS_CDS_PORT")] = 8090,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log each request")] = True,
) -> None:
    """Run the CDS Hooks service alone (discovery at /cds-services); settings from FBSS_CDS_* variables.

    With several workers they share one jti replay cache (FBSS_CDS_REPLAY_DB, else a temporary SQLite file).
    """
    import uvicorn

    from fbss.fhir.cds_hooks import CdsSettings

    CdsSettings.from_env()  # report configuration errors before starting
    if workers > 1 and not os.environ.get("FBSS_CDS_REPLAY_DB"):
        # the workers share one jti replay cache, a SQLite file that lives as long as the service
        with tempfile.TemporaryDirectory(prefix="fbss-cds-") as folder:
            os.environ["FBSS_CDS_REPLAY_DB"] = str(Path(folder) / "jti.sqlite")
            _serve_workers(host, port, workers, log_level, access_log)
        return
    if workers == 1:
        uvicorn.run(
            "fbss.fhir.cds_hooks:app_from_env",
            factory=True,
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
        )
        return
    _serve_workers(host, port, workers, log_level, access_log)


def _serve_workers(host: str, port: int, workers: int, log_level: str, access_log: bool) -> None:
    """Several processes accepting on one listening socket.

    The socket is made with protocol IPPROTO_TCP so that asyncio sets TCP_NODELAY on each accepted connection;
    uvicorn's own multi-worker socket does not, and responses then wait on delayed ACKs (about 40 ms).
    """
    import multiprocessing
    import signal
    import socket

    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise FbssError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.listen(2048)
    sock.set_inheritable(True)

    def run() -> None:
        config = uvicorn.Config(
            "fbss.fhir.cds_hooks:app_from_env", factory=True, log_level=log_level, access_log=access_log
        )
        server = uvicorn.Server(config)
        server.run(sockets=[sock])

    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=run, daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()

    def stop(signum: int, frame: object) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
    sock.close()


def register(app: typer.Typer) -> None:
    """Mount `fbss fhir ...` and `fbss cds ...` on the main command line."""
    app.add_typer(fhir_app, name="fhir")
    app.add_typer(cds_app, name="cds")
