"""The command line: a clinic's day with `fbss patient`, `case`, `record`, `outcomes` and `db`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fbss.cli import app
from fbss.errors import CaseError, FbssError
from fbss.store import migrate
from fbss.store.database import Database
from fbss.store.errors import StoreError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cases" / "recurrent_herniation_after_discectomy.json"


class Fbss:
    """Run `fbss` against one database as one user."""

    def __init__(self, url: str, user: str = "dr-test") -> None:
        self.env = {"FBSS_DATABASE_URL": url, "FBSS_USER": user, "COLUMNS": "200"}
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True) -> Result:
        result = self.runner.invoke(app, list(args), env=self.env)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result


@pytest.fixture
def fbss(db: Database) -> Fbss:
    return Fbss(db.engine.url.render_as_string(hide_password=False))


def test_patient_case_history_and_assessment(fbss: Fbss, tmp_path: Path) -> None:
    assert (
        "added patient MRN-7" in fbss("patient", "add", "MRN-7", "--name", "Test Person", "--birth-year", "1966").output
    )
    assert "saved version 1" in fbss("case", "save", "MRN-7", str(EXAMPLE), "--note", "first visit").output
    edited = json.loads(EXAMPLE.read_text())
    edited["pain"]["nrs_leg"] = 5
    edited["risk_factors"]["smoking"] = "absent"
    (tmp_path / "v2.json").write_text(json.dumps(edited))
    fbss("case", "save", "MRN-7", str(tmp_path / "v2.json"), "-m", "after physiotherapy")
    history = fbss("case", "history", "MRN-7").output
    assert "version 2" in history and "after physiotherapy" in history
    assert "pain.nrs_leg: 7 → 5" in history
    assert 'risk_factors.smoking: "present" → "absent"' in history
    as_json = json.loads(fbss("case", "history", "MRN-7", "--format", "json").output)
    assert as_json[1]["changes"][0] == {"path": "pain.nrs_leg", "kind": "changed", "old": 7, "new": 5}
    listed = json.loads(fbss("patient", "list", "-f", "json").output)
    assert [(p["identifier"], p["display_name"], p["birth_year"]) for p in listed] == [("MRN-7", "Test Person", 1966)]
    shown = json.loads(fbss("patient", "show", "MRN-7", "-f", "json").output)
    assert shown["case_versions"] == 2
    assessed = json.loads(fbss("case", "assess", "MRN-7", "-f", "json").output)
    assert assessed["case_id"] == "ex-recurrent-herniation"
    assert "stored as assessment" in fbss("case", "assess", "MRN-7", "--version", "1").output
    assert json.loads(fbss("case", "show", "MRN-7", "-v", "1").output)["pain"]["nrs_leg"] == 7


def test_record_and_outcomes(fbss: Fbss) -> None:
    fbss("patient", "add", "MRN-7")
    fbss(
        "record",
        "odi",
        "-p",
        "MRN-7",
        "-a",
        "3,3,2,3,3,3,2,,3,2",
        "-t",
        "baseline",
        "--completed-at",
        "2026-01-10",
    )
    fbss(
        "record",
        "odi",
        "-p",
        "MRN-7",
        "-a",
        "2,2,2,2,2,2,1,,2,1",
        "-t",
        "month_3",
        "--completed-at",
        "2026-04-10",
    )
    fbss(
        "record",
        "odi",
        "--patient",
        "MRN-7",
        "--answers",
        "pain_intensity=1,personal_care=0,lifting=1,walking=1,"
        "sitting=1,standing=1,sleeping=0,social_life=1,travelling=1",
        "--completed-at",
        "2026-07-10",
    )
    fbss("record", "nrs_leg", "-p", "MRN-7", "-a", '{"pain": 8}', "--completed-at", "2026-01-10T08:00:00+01:00")
    text = fbss("outcomes", "MRN-7").output
    assert "Oswestry" in text and "grey zone" in text and "success" in text
    assert "trend: 53.33 → 35.56 → 15.56" in text
    data = json.loads(fbss("outcomes", "MRN-7", "-f", "json").output)
    assert [t["instrument_id"] for t in data] == ["odi", "nrs_leg"]
    assert [r["change"] and r["change"]["outcome"] for r in data[0]["rows"]] == [None, "grey_zone", "success"]
    assert data[1]["rows"][0]["completed_at"].startswith("2026-01-10T07:00:00")


def test_a_self_harm_answer_alerts_on_stderr(fbss: Fbss) -> None:
    fbss("patient", "add", "MRN-7")
    result = fbss("record", "phq9", "-p", "MRN-7", "-a", "0,0,0,0,0,0,0,0,2")
    assert "SAFETY ALERT" in result.output


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("record", "odi", "-p", "MRN-7", "-a", "9,3,2,3,3,3,2,,3,2"), FbssError, "9 is out of range"),
        (("record", "oswestry", "-p", "MRN-7", "-a", "1"), FbssError, "unknown instrument 'oswestry'"),
        (("record", "nrs_leg", "-p", "NOBODY", "-a", "3"), StoreError, "no patient with identifier 'NOBODY'"),
        (("record", "nrs_leg", "-p", "MRN-7", "-a", "3,4"), StoreError, "2 value(s) given"),
        (("record", "nrs_leg", "-p", "MRN-7", "-a", "pain=x"), StoreError, "'x' is not a number"),
        (("case", "save", "NOBODY", str(EXAMPLE)), StoreError, "no patient with identifier"),
        (("patient", "add", "MRN-7"), StoreError, "already exists"),
    ],
)
def test_bad_input_is_one_clear_error_and_writes_nothing(
    fbss: Fbss, db: Database, args: tuple[str, ...], error: type[Exception], message: str
) -> None:
    fbss("patient", "add", "MRN-7")
    before = db.row_counts()
    result = fbss(*args, ok=False)
    assert result.exit_code == 1
    assert isinstance(result.exception, error) and message in str(result.exception)
    assert db.row_counts() == before


def test_an_invalid_case_file_writes_nothing(fbss: Fbss, db: Database, tmp_path: Path) -> None:
    fbss("patient", "add", "MRN-7")
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "index_surgery": {"type": "microdiscectomy"}, "pain": {"nrs_leg": 11}}')
    before = db.row_counts()
    result = fbss("case", "save", "MRN-7", str(bad), ok=False)
    assert isinstance(result.exception, CaseError) and "pain.nrs_leg" in str(result.exception)
    assert db.row_counts() == before


def test_backup_restore_export_import(fbss: Fbss, make_db: object, tmp_path: Path) -> None:
    fbss("patient", "add", "MRN-7")
    fbss("case", "save", "MRN-7", str(EXAMPLE))
    assert "backed up" in fbss("db", "backup", str(tmp_path / "b.json")).output
    fbss("db", "backup", str(tmp_path / "b.sqlite3"))
    refused = fbss("db", "restore", str(tmp_path / "b.json"), ok=False)
    assert "is not empty" in str(refused.exception)
    fbss("patient", "export", "-o", str(tmp_path / "export.json"))
    fbss("patient", "export", "MRN-7", "-o", str(tmp_path / "one.json"))
    for backup in ("b.json", "b.sqlite3"):
        other = Fbss(f"sqlite:///{tmp_path / (backup + '.restored.sqlite3')}")
        assert "restored" in other("db", "restore", str(tmp_path / backup)).output
        assert "MRN-7" in other("patient", "list").output
    imported = Fbss(f"sqlite:///{tmp_path / 'imported.sqlite3'}")
    imported("db", "upgrade")
    assert "imported 1 patient(s)" in imported("patient", "import", str(tmp_path / "one.json")).output
    assert "first version" in imported("case", "history", "MRN-7").output
    again = imported("patient", "import", str(tmp_path / "one.json"), ok=False)
    assert "nothing was imported" in str(again.exception)


def test_audit_command_shows_who_did_what(fbss: Fbss) -> None:
    fbss("patient", "add", "MRN-7")
    Fbss(fbss.env["FBSS_DATABASE_URL"], user="nurse-2")("patient", "show", "MRN-7")
    fbss("patient", "list", "--user", "dr-override")
    log = fbss("db", "audit").output
    assert "dr-test" in log and "nurse-2" in log and "dr-override" in log
    assert "hash chain verified" in fbss("db", "audit", "--verify").output


def test_commands_refuse_an_unmigrated_database_until_upgrade(tmp_path: Path) -> None:
    fresh = Fbss(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    result = fresh("patient", "list", ok=False)
    assert "run `fbss db upgrade`" in str(result.exception)
    assert "upgraded from schema empty" in fresh("db", "upgrade").output
    assert "up to date" in fresh("db", "upgrade").output
    assert "patients: 0" in fresh("db", "status").output


def test_db_upgrade_works_from_any_directory_without_alembic_ini(tmp_path: Path) -> None:
    """The migrations ship inside the package: run the real entry point from an empty directory."""
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    run = subprocess.run(
        [sys.executable, "-c", "from fbss.cli import main; main()", "db", "upgrade"],
        cwd=tmp_path,
        env={"FBSS_DATABASE_URL": url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert f"upgraded from schema empty to {migrate.head_revision()}" in run.stdout
    assert not (tmp_path / "alembic.ini").exists()
    failing = subprocess.run(
        [sys.executable, "-c", "from fbss.cli import main; main()", "patient", "show", "NOBODY"],
        cwd=tmp_path,
        env={"FBSS_DATABASE_URL": url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FBSS_USER": "x"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failing.returncode == 1
    assert failing.stderr.strip() == "error: no patient with identifier 'NOBODY'; see `fbss patient list`"
