"""`fbss synth`, `fbss cohort run` and `fbss cohort report` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import fbss


def test_synth_run_report(tmp_path: Path) -> None:
    export, out, page = tmp_path / "export", tmp_path / "results.parquet", tmp_path / "report.html"
    made = fbss("synth", "--patients", "12", "--out", str(export), "--seed", "3")
    assert made.returncode == 0, made.stderr
    assert "Patient 12" in made.stderr
    ran = fbss("cohort", "run", str(export), "--out", str(out), "--workers", "2")
    assert ran.returncode == 0, ran.stderr
    assert "patients" in ran.stderr and "12" in ran.stderr
    assert out.is_file()
    reported = fbss("cohort", "report", str(out), "--out", str(page))
    assert reported.returncode == 0, reported.stderr
    assert "<h1>Cohort screening report</h1>" in page.read_text(encoding="utf-8")


def test_errors_are_one_line(tmp_path: Path) -> None:
    ran = fbss("cohort", "run", str(tmp_path / "missing"), "--out", str(tmp_path / "r.parquet"))
    assert ran.returncode == 1
    assert ran.stderr.strip().count("\n") == 0
    assert "is not a directory" in ran.stderr
    bad = fbss("cohort", "run", str(tmp_path), "--out", str(tmp_path / "r.parquet"), "--as-of", "yesterday")
    assert bad.returncode == 1 and "--as-of" in bad.stderr
    report = fbss("cohort", "report", str(tmp_path / "none.parquet"))
    assert report.returncode == 1 and "does not exist" in report.stderr


@pytest.mark.parametrize("missing", ["pyspark", "pyarrow"])
def test_the_spark_engine_without_the_spark_extra_says_how_to_add_it(tmp_path: Path, missing: str) -> None:
    """The app installs without PySpark (an optional extra); asking for the Spark engine then names the fix."""
    import subprocess
    import sys

    program = (
        f"import sys; sys.modules[{missing!r}] = None\n"  # as if the extra were not installed
        "from fbss.cli import main\n"
        f"sys.argv = ['fbss', 'cohort', 'run', {str(tmp_path)!r}, '--out', {str(tmp_path / 'r')!r},"
        " '--engine', 'spark']\n"
        "main()\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "uv sync --extra spark" in run.stderr and "Traceback" not in run.stderr


def test_the_command_line_loads_the_database_code_and_plotting_only_for_commands_that_use_them() -> None:
    """A cohort run forks its workers from the `fbss` process: whatever it loaded would be carried into each one."""
    import subprocess
    import sys

    program = (
        "import sys\nfrom fbss.cli import app\nfrom typer.main import get_command\n"
        "commands = get_command(app).commands\n"  # every command is still listed
        "assert {'patient', 'case', 'db', 'user', 'record', 'outcomes', 'cohort'} <= set(commands), sorted(commands)\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'fbss.store.database', 'matplotlib') if m in sys.modules))\n"
    )
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[]"
