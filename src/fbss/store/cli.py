"""`fbss patient|case|db|record|outcomes`: the patient database on the command line (see `register`)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fbss import jsonlimits
from fbss.case.parse import read_case
from fbss.instruments import InstrumentError, SafetyAlert, load_instruments
from fbss.instruments.scoring import Answer
from fbss.knowledge.loader import load_knowledge
from fbss.reports.terminal import render_assessment
from fbss.store.diff import diff
from fbss.store.errors import StoreError
from fbss.store.files import open_private
from fbss.store.roles import Role

if TYPE_CHECKING:
    from fbss.store.accounts import Accounts
    from fbss.store.database import Database
    from fbss.store.outcomes import InstrumentTrend
    from fbss.store.records import ResponseRecord
    from fbss.store.repository import Repository

patient_app = typer.Typer(help="Register patients, show them, export and import their records.", no_args_is_help=True)
case_app = typer.Typer(help="Save case versions, show their history, assess a saved case.", no_args_is_help=True)
db_app = typer.Typer(help="Create or upgrade the database; back it up and restore it; read the audit log.")
db_app.info.no_args_is_help = True
user_app = typer.Typer(
    help="Web app accounts: add one (clinicians are added here only), set a password, disable, enable, list.",
    no_args_is_help=True,
)

stdout = Console(soft_wrap=False)
stderr = Console(stderr=True)

UserOption = Annotated[
    str | None,
    typer.Option("--user", envvar="FBSS_USER", help="Who is acting, for the audit log (default: the OS user)"),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar="FBSS_DATABASE_URL",
        help="Database URL (default: ~/.local/share/fbss/fbss.sqlite3)",
        show_default=False,
    ),
]
PatientArgument = Annotated[str, typer.Argument(help="The patient's identifier (clinic record number)")]


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text or json")]


def _json_out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def current_user(user: str | None) -> str:
    """Who is acting (see `fbss.store.config.current_user`)."""
    # the database code (SQLAlchemy, Alembic) is imported by the commands that use it, not by every `fbss` command:
    # a cohort run forks its workers from a process that never loaded it
    from fbss.store.config import current_user as configured_user

    return configured_user(user)


def _accounts(db: Database, user: str | None) -> Accounts:
    from fbss.store.accounts import Accounts

    return Accounts(db, user=current_user(user))


@contextmanager
def _database(database: str | None, *, migrated: bool = True) -> Iterator[Database]:
    from fbss.store.database import Database

    db = Database.open(database)
    try:
        if migrated:
            db.require_current_schema()
        yield db
    finally:
        _report_unwritten_audit(db)
        db.close()


def _report_unwritten_audit(db: Database) -> None:
    """A command whose audit entries could not be written says so (the process ends: they cannot wait)."""
    pending = db.audit_trail.status()
    if pending is not None:
        stderr.print(
            f"[bold red]warning:[/] {pending.entries} audit entr{'y' if pending.entries == 1 else 'ies'} could not "
            f"be written ({escape(pending.reason)}); note this action in your operations log",
            highlight=False,
            soft_wrap=True,
        )


@contextmanager
def _repository(database: str | None, user: str | None) -> Iterator[Repository]:
    from fbss.store.repository import Repository

    who = current_user(user)
    with _database(database) as db:
        yield Repository(db, who)


# -- patients ------------------------------------------------------------------------------------------------


@patient_app.command("add")
def patient_add(
    identifier: PatientArgument,
    name: Annotated[str | None, typer.Option("--name", help="Display name")] = None,
    birth_year: Annotated[int | None, typer.Option("--birth-year", help="Year of birth")] = None,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Register a patient under the clinic's identifier."""
    with _repository(database, user) as repo:
        patient = repo.add_patient(identifier, display_name=name, birth_year=birth_year)
    stdout.print(f"added patient {escape(patient.identifier)}", highlight=False)


@patient_app.command("list")
def patient_list(output: FormatOption = Format.text, user: UserOption = None, database: DatabaseOption = None) -> None:
    """List every patient."""
    with _repository(database, user) as repo:
        patients = repo.list_patients()
    if output is Format.json:
        _json_out([_patient_data(p) for p in patients])
        return
    table = Table("identifier", "name", "born", "registered")
    for p in patients:
        table.add_row(escape(p.identifier), escape(p.display_name or ""), str(p.birth_year or ""), _when(p.created_at))
    stdout.print(table)


def _patient_data(p: Any) -> dict[str, Any]:
    return {
        "identifier": p.identifier,
        "display_name": p.display_name,
        "birth_year": p.birth_year,
        "created_by": p.created_by,
        "created_at": p.created_at,
    }


@patient_app.command("show")
def patient_show(
    identifier: PatientArgument,
    output: FormatOption = Format.text,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Show one patient and how much is on file."""
    with _repository(database, user) as repo:
        summary = repo.patient(identifier)
    data = _patient_data(summary.patient) | {
        "case_versions": summary.case_versions,
        "latest_version_at": summary.latest_version_at,
        "assessments": summary.assessments,
        "questionnaire_responses": summary.responses,
    }
    if output is Format.json:
        _json_out(data)
        return
    table = Table(show_header=False, box=None)
    for key, value in data.items():
        shown = _when(value) if isinstance(value, dt.datetime) else ("" if value is None else str(value))
        table.add_row(key.replace("_", " "), escape(shown))
    stdout.print(table)


@patient_app.command("export")
def patient_export(
    identifiers: Annotated[list[str] | None, typer.Argument(help="Patients to export (default: all)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")] = None,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Export patients with their whole history as one JSON document."""
    from fbss.store import transfer

    if output is not None and output.exists():
        raise StoreError(f"{output} already exists; choose a new file name")
    with _database(database) as db:
        document = transfer.export_patients(db, current_user(user), identifiers or ())
    text = document.model_dump_json(indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            with open_private(output) as handle:
                handle.write(text)
        except OSError as exc:
            raise StoreError(f"{output}: cannot write the export ({exc.strerror})") from None
        stderr.print(f"exported {len(document.patients)} patient(s) to {output}", highlight=False)


@patient_app.command("import")
def patient_import(
    file: Annotated[Path, typer.Argument(help="An export written by `fbss patient export`")],
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Import patients with their history; all or nothing, refusing identifiers already in use."""
    from fbss.store import transfer

    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise StoreError(f"{file}: cannot read ({exc.strerror})") from None
    document = transfer.parse_export(raw, origin=str(file))
    with _database(database) as db:
        imported = transfer.import_patients(db, current_user(user), document)
    stdout.print(f"imported {len(imported)} patient(s)", highlight=False)


# -- cases ---------------------------------------------------------------------------------------------------


@case_app.command("save")
def case_save(
    identifier: PatientArgument,
    case_file: Annotated[Path, typer.Argument(help="Case JSON file (see `fbss schema`)")],
    note: Annotated[str | None, typer.Option("--note", "-m", help="What changed and why")] = None,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Save the case as the patient's next version; earlier versions are kept unchanged."""
    case = read_case(case_file)
    with _repository(database, user) as repo:
        saved = repo.save_case(identifier, case, note=note)
    stdout.print(f"saved version {saved.version} of {escape(saved.patient_identifier)}'s case", highlight=False)


@case_app.command("history")
def case_history(
    identifier: PatientArgument,
    output: FormatOption = Format.text,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Every version of the case, with the fields that changed from the version before."""
    with _repository(database, user) as repo:
        versions = repo.case_history(identifier)
    entries = []
    previous: dict[str, Any] | None = None
    for version in versions:
        changes = [] if previous is None else diff(previous, version.data)
        entries.append((version, changes))
        previous = version.data
    if output is Format.json:
        _json_out(
            [
                {
                    "version": v.version,
                    "created_at": v.created_at,
                    "created_by": v.created_by,
                    "note": v.note,
                    "changes": [
                        {"path": c.path, "kind": c.kind}
                        | ({} if c.kind == "added" else {"old": c.old})
                        | ({} if c.kind == "removed" else {"new": c.new})
                        for c in changes
                    ],
                }
                for v, changes in entries
            ]
        )
        return
    if not versions:
        stdout.print(f"patient {escape(identifier)} has no saved case yet", highlight=False)
        return
    for version, changes in entries:
        stdout.print(
            f"[bold]version {version.version}[/]  {_when(version.created_at)}"
            f"  by {escape(version.created_by)}" + (f"  — {escape(version.note)}" if version.note else ""),
            highlight=False,
        )
        if version.version == 1:
            stdout.print("  first version", style="dim")
        elif not changes:
            stdout.print("  no changes", style="dim")
        for change in changes:
            stdout.print(f"  {escape(change.describe())}", highlight=False)


@case_app.command("show")
def case_show(
    identifier: PatientArgument,
    version: Annotated[int | None, typer.Option("--version", "-v", help="Version number (default: latest)")] = None,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Print one version of the case as JSON."""
    with _repository(database, user) as repo:
        record = repo.case_version(identifier, version)
    _json_out(record.data)


@case_app.command("assess")
def case_assess(
    identifier: PatientArgument,
    version: Annotated[int | None, typer.Option("--version", "-v", help="Version number (default: latest)")] = None,
    output: FormatOption = Format.text,
    knowledge: Annotated[
        Path | None, typer.Option("--knowledge", help="Knowledge-base directory", envvar="FBSS_KNOWLEDGE_DIR")
    ] = None,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Assess a saved case version and store the result with the engine and knowledge versions used."""
    kb = load_knowledge(knowledge)
    with _repository(database, user) as repo:
        record, assessment = repo.assess_case(identifier, kb, version=version)
    if output is Format.json:
        _json_out(record.result)
        return
    render_assessment(assessment, kb, stdout)
    stdout.print(
        f"stored as assessment {record.id} of case version {record.case_version} "
        f"(engine {record.engine_version}, "
        f"knowledge {record.knowledge_version} {record.knowledge_fingerprint})",
        style="dim",
        highlight=False,
    )


# -- questionnaires ------------------------------------------------------------------------------------------


def parse_answers(text: str, item_ids: list[str]) -> dict[str, Answer]:
    """Answers as JSON (`{"pain": 7}`), `@file.json`, `item=value,...`, or values in item order (`3,2,,1`)."""
    text = text.strip()
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"--answers: cannot read {path} ({exc})") from None
    if text.startswith("{"):
        try:
            data = jsonlimits.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreError(f"--answers: not valid JSON ({exc.msg})") from None
        except ValueError as exc:
            raise StoreError(f"--answers: {exc}") from None
        if not isinstance(data, dict):
            raise StoreError("--answers: expected a JSON object of item id to answer")
        return data
    parts = [part.strip() for part in text.split(",")]
    if any("=" in part for part in parts):
        answers: dict[str, Answer] = {}
        for part in parts:
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise StoreError(f"--answers: {part!r} is not item=value")
            answers[key.strip()] = _number(value.strip())
        return answers
    if len(parts) != len(item_ids):
        raise StoreError(
            f"--answers: {len(parts)} value(s) given, the instrument has {len(item_ids)} items "
            f"({', '.join(item_ids)}); leave a value empty for an unanswered item"
        )
    return dict(zip(item_ids, (_number(p) for p in parts), strict=True))


def _number(text: str) -> Answer:
    if text in ("", "-"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise StoreError(f"--answers: {text!r} is not a number") from None
    return int(value) if value.is_integer() and "." not in text else value


def _completed_at(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise StoreError(
            f"--completed-at: expected a date (2026-05-01) or time (2026-05-01T09:30), got {text!r}"
        ) from None
    return value if value.tzinfo else value.astimezone()


def _print_alerts(alerts: tuple[SafetyAlert, ...]) -> None:
    for alert in alerts:
        stderr.print(
            f"[bold red]SAFETY ALERT ({alert.clinician_deadline.replace('_', ' ')}):[/] "
            f"{escape(alert.clinician_message)}",
            highlight=False,
            soft_wrap=True,
        )


def record(
    instrument: Annotated[str, typer.Argument(help="Instrument id, e.g. odi, nrs_leg, phq9")],
    patient: Annotated[str, typer.Option("--patient", "-p", help="The patient's identifier")],
    answers: Annotated[
        str,
        typer.Option(
            "--answers", "-a", help='JSON {"item": value}, @file.json, item=value,... or values in item order'
        ),
    ],
    time_point: Annotated[
        str | None,
        typer.Option("--time-point", "-t", help="baseline, week_6, month_3, month_6, month_12, month_24"),
    ] = None,
    completed_at: Annotated[
        str | None, typer.Option("--completed-at", help="When the form was filled in (default: now)")
    ] = None,
    output: FormatOption = Format.text,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Score a completed questionnaire and store answers and score for the patient."""
    from fbss.store.outcomes import record_response

    catalogue = load_instruments()
    item_ids = [item.id for item in catalogue.get(instrument).items]
    parsed = parse_answers(answers, item_ids)
    when = _completed_at(completed_at)
    with _repository(database, user) as repo:
        try:
            stored, result = record_response(
                repo,
                patient,
                instrument,
                parsed,
                completed_at=when,
                time_point=time_point,
                catalogue=catalogue,
            )
        except InstrumentError as exc:
            _print_alerts(exc.alerts)
            raise
    _print_alerts(result.alerts)
    if output is Format.json:
        _json_out(_response_data(stored))
        return
    headline = "" if result.total is None else f"{result.total:.4g}"
    band = f" ({result.band})" if result.band else ""
    stdout.print(
        f"recorded {escape(result.title)} for {escape(stored.patient_identifier)}: {headline}{escape(band)}",
        highlight=False,
    )


def _response_data(r: ResponseRecord) -> dict[str, Any]:
    return {
        "instrument_id": r.instrument_id,
        "time_point": r.time_point,
        "completed_at": r.completed_at,
        "answers": r.answers,
        "score": r.score,
        "created_by": r.created_by,
        "created_at": r.created_at,
    }


OUTCOME_STYLE = {"success": "green", "grey_zone": "yellow", "failure": "red", "not_success": "magenta"}


def outcomes(
    patient: PatientArgument,
    output: FormatOption = Format.text,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """The patient's questionnaire scores over time, and change from baseline: success, grey zone, failure."""
    from fbss.store.outcomes import trends

    with _repository(database, user) as repo:
        responses = repo.responses(patient)
    result = trends(responses)
    if output is Format.json:
        _json_out([_trend_data(t) for t in result])
        return
    if not result:
        stdout.print(f"no questionnaires on file for {escape(patient)}; use `fbss record`", highlight=False)
        return
    for trend in result:
        _print_trend(trend)


def _trend_data(trend: InstrumentTrend) -> dict[str, Any]:
    return {
        "instrument_id": trend.instrument_id,
        "title": trend.title,
        "rows": [
            {
                "completed_at": row.response.completed_at,
                "time_point": row.response.time_point,
                "value": row.value,
                "band": row.band,
                "baseline": row.is_baseline,
                "change": None if row.change is None else row.change.model_dump(mode="json"),
            }
            for row in trend.rows
        ],
    }


def _print_trend(trend: InstrumentTrend) -> None:
    table = Table(title=f"{trend.title}", title_justify="left", title_style="bold")
    for column in (
        "date",
        "time point",
        trend.scale_title or "score",
        "band",
        "change from baseline",
        "outcome",
    ):
        table.add_column(column)
    for row in trend.rows:
        change, outcome = "", ""
        if row.is_baseline and trend.has_change:
            change = "baseline"
        elif row.change is not None and row.change.improvement_points is not None:
            pct = row.change.improvement_percent
            change = f"{row.change.improvement_points:+.4g} points" + ("" if pct is None else f" ({pct:+.0f} %)")
            if row.change.mcid_met is not None:
                change += ", MCID met" if row.change.mcid_met else ", MCID not met"
        if row.change is not None and row.change.outcome is not None:
            label = row.change.outcome.value
            outcome = f"[{OUTCOME_STYLE.get(label, 'white')}]{label.replace('_', ' ')}[/]"
        table.add_row(
            row.response.completed_at.date().isoformat(),
            row.response.time_point or "",
            "" if row.value is None else f"{row.value:.4g}",
            escape(row.band or ""),
            change,
            outcome,
        )
    stdout.print(table)
    values = [f"{row.value:.4g}" for row in trend.rows if row.value is not None]
    latest = trend.latest.change
    if len(values) > 1:
        verdict = ""
        if latest is not None and latest.outcome is not None:
            label = latest.outcome.value
            verdict = f"  latest: [{OUTCOME_STYLE.get(label, 'white')}]{label.replace('_', ' ')}[/]"
            if latest.primary_definition:
                verdict += f" [dim]({latest.primary_definition})[/]"
        stdout.print(f"trend: {' → '.join(values)}{verdict}", highlight=False)


# -- database ------------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None) -> None:
    """Create the tables, or bring them up to this version's schema."""
    with _database(database, migrated=False) as db:
        before, after = db.upgrade()
        url = db.url
    if before == after:
        stdout.print(f"database {url} is up to date (schema {after})", highlight=False)
    else:
        stdout.print(f"database {url} upgraded from schema {before or 'empty'} to {after}", highlight=False)


@db_app.command("status")
def db_status(database: DatabaseOption = None) -> None:
    """Which database, which schema revision, how many rows (read-only: works on a full disk or a locked
    database)."""
    with _database(database, migrated=False) as db:
        stdout.print(f"database: {db.url}", highlight=False)
        revision = db.revision()
        stdout.print(f"schema:   {revision or 'none (run `fbss db upgrade`)'}", highlight=False)
        if revision is not None:
            for table, count in db.row_counts().items():
                stdout.print(f"  {table}: {count}", highlight=False)


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="New file: *.json or *.sqlite3")],
    read_only: Annotated[
        bool,
        typer.Option("--read-only", help="Read without the write lock (full disk, locked database); the backup's "
                                         "audit entry is written only if the database accepts it"),
    ] = False,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Copy the whole database, audit log included, to a new JSON or SQLite file (readable by you only)."""
    from fbss.store import backup as backups

    with _database(database) as db:
        summary = backups.backup(db, file, current_user(user), read_only=read_only)
    stdout.print(f"backed up {sum(summary.rows.values())} rows to {file} ({summary.kind})", highlight=False)


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="A backup written by `fbss db backup`")],
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Load a backup into an empty database; a database holding any rows is refused."""
    from fbss.store import backup as backups

    with _database(database, migrated=False) as db:
        summary = backups.restore(db, file, current_user(user))
    stdout.print(f"restored {sum(summary.rows.values())} rows from {file}", highlight=False)


@db_app.command("audit")
def db_audit(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only entries about this patient")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many of the latest entries")] = 50,
    verify: Annotated[bool, typer.Option("--verify", help="Check the whole hash chain instead")] = False,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Read the audit log (who did what, when), or verify that it has not been altered."""
    with _repository(database, user) as repo:
        if verify:
            check = repo.verify_audit()
            if not check.intact:
                raise StoreError(f"audit log altered: entry {check.first_broken_id} does not match the hash chain")
            stdout.print(f"audit log intact: {check.entries} entries, hash chain verified", highlight=False)
            return
        entries = repo.audit_entries(patient, limit)
    table = Table("#", "when", "who", "action", "entity", "id", "patient")
    for e in entries:
        table.add_row(
            str(e.id),
            _when(e.at),
            escape(e.who),
            e.action,
            e.entity,
            e.entity_id or "",
            str(e.patient_id or ""),
        )
    stdout.print(table)


# -- web app accounts ----------------------------------------------------------------------------------------


def _new_password() -> str:
    """Typed twice, hidden, at a terminal; otherwise the first line of standard input (for scripts)."""
    if sys.stdin.isatty():
        password: str = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        return password
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise StoreError("give the new password on standard input (one line), or run the command at a terminal")
    return line


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Lower-case user name")],
    role: Annotated[Role, typer.Option("--role", help="clinician or admin")],
    name: Annotated[str | None, typer.Option("--name", help="Display name")] = None,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Add an account; the password is asked for (or read from standard input)."""
    password = _new_password()
    with _database(database) as db:
        record = _accounts(db, user).create_user(username, password, role, display_name=name)
    stdout.print(f"added {record.role.value} account {escape(record.username)}", highlight=False)


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument(help="The account's user name")],
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Set a new password; every browser signed in to the account is signed out."""
    password = _new_password()
    with _database(database) as db:
        _accounts(db, user).set_password(username, password)
    stdout.print(f"password of {escape(username)} changed; its sessions have ended", highlight=False)


def _set_active(username: str, active: bool, user: str | None, database: str | None) -> None:
    with _database(database) as db:
        accounts = _accounts(db, user)
        found = accounts.user_id_of(username)
        if found is None:
            raise StoreError(f"no user named '{username}'; see `fbss user list`")
        accounts.set_active(found, active)
    stdout.print(f"{escape(username)} {'enabled' if active else 'disabled'}", highlight=False)


@user_app.command("disable")
def user_disable(username: str, user: UserOption = None, database: DatabaseOption = None) -> None:
    """Disable an account; its sessions end at once."""
    _set_active(username, False, user, database)


@user_app.command("enable")
def user_enable(username: str, user: UserOption = None, database: DatabaseOption = None) -> None:
    """Enable a disabled account again."""
    _set_active(username, True, user, database)


@user_app.command("list")
def user_list(user: UserOption = None, database: DatabaseOption = None) -> None:
    """Every account, its role and whether it is active."""
    with _database(database) as db:
        users = _accounts(db, user).list_users()
    table = Table("user name", "name", "role", "state", "created by")
    for u in users:
        table.add_row(escape(u.username), escape(u.display_name or ""), u.role.value,
                      "active" if u.active else "disabled", escape(u.created_by))
    stdout.print(table)


def register(app: typer.Typer) -> None:
    """Add the database commands to the main `fbss` app."""
    app.add_typer(user_app, name="user")
    app.add_typer(patient_app, name="patient")
    app.add_typer(case_app, name="case")
    app.add_typer(db_app, name="db")
    app.command("record")(record)
    app.command("outcomes")(outcomes)
