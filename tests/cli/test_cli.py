"""The `fbss` command as a user runs it: exit codes, one-line errors, JSON lines, schema, knowledge commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

EXAMPLE = EXAMPLES / "recurrent_herniation_after_discectomy.json"


def fbss(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "fbss.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_assess_prints_the_report() -> None:
    run = fbss("assess", str(EXAMPLE))
    assert run.returncode == 0, run.stderr
    assert "Recurrent disc herniation" in run.stdout
    assert "No red flag fired" in run.stdout


def test_assess_json_keeps_every_because_and_resolves_sources() -> None:
    run = fbss("assess", str(EXAMPLE), "--format", "json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    top = data["differential"]["causes"][0]
    assert top["cause"] == "recurrent_disc_herniation"
    assert top["raised_by"][0]["finding"] == "dx_recurrent_disc_herniation"
    assert "Radiology 1988" in data["references"]["hueftle_1988"]["citation"]
    assert data["knowledge_version"] and data["engine_version"]


def test_assess_markdown() -> None:
    run = fbss("assess", str(EXAMPLE), "-f", "markdown")
    assert run.returncode == 0
    assert run.stdout.startswith("# Assessment of case ex-recurrent-herniation")
    assert "| 1 | Recurrent disc herniation |" in run.stdout


def test_many_cases_as_json_lines_and_a_bad_one_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "index_surgery": {"type": "fusion"}, "pain": {"nrs_leg": 12}}')
    cases = [*sorted(EXAMPLES.glob("*.json")), bad]
    run = fbss("assess", *map(str, cases), "--format", "json")
    assert run.returncode == 1
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(lines) == len(cases) - 1
    assert f"{bad}: pain.nrs_leg: Input should be less than or equal to 10 (got 12)" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["assess", "/no/such/file.json"], "cannot read"),
        (["knowledge", "show", "no_such_entry"], "no knowledge entry with id 'no_such_entry'"),
        (["knowledge", "validate", "/no/such/dir"], "knowledge directory not found"),
        (["knowledge", "list", "--kind", "pets"], "--kind: expected causes, red-flags, findings or sources"),
    ],
)
def test_errors_are_one_line_without_traceback(args: list[str], message: str) -> None:
    run = fbss(*args)
    assert run.returncode != 0
    assert message in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_schema_is_a_json_schema_of_the_case() -> None:
    run = fbss("schema")
    schema = json.loads(run.stdout)
    assert schema["title"] == "Case"
    assert "index_surgery" in schema["required"]
    assert "Presence" in schema["$defs"]


def test_knowledge_commands() -> None:
    assert "is valid" in fbss("knowledge", "validate").stdout
    listing = fbss("knowledge", "list", "--kind", "red-flags").stdout
    assert "cauda_equina" in listing and "emergency" in listing
    entry = json.loads(fbss("knowledge", "show", "pseudarthrosis").stdout)
    assert entry["category"] == "technical_failure" and entry["applies_if"] == "fusion_performed"
