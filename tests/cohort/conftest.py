"""Cohort fixtures: one small synthetic export with a few broken lines, its local result, and one Spark session."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from fbss.cohort.local import RunSummary, run_local
from fbss.cohort.synth import write_population

PATIENTS = 160
SEED = 7
AS_OF = dt.date(2026, 11, 1)

# (file, line text) appended to the export: each must be reported with its file and line, and skipped
BROKEN = {
    "Observation.ndjson": [
        '{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/PID"},"code":{',
        "this is not JSON at all",
        "",
        '{"resourceType":"Observation","status":"final","code":{"text":"no subject"}}',
    ],
    "Condition.ndjson": ['{"resourceType": "Condition", "subject": {"reference": "Patient/PID"}, "code": [1, 2'],
}


def read_rows(path: Path) -> list[tuple[Any, ...]]:
    """Every row of a result file or Spark dataset directory, ordered by patient id."""
    source = f"'{path}/*.parquet'" if path.is_dir() else f"'{path}'"
    return duckdb.sql(f"SELECT * FROM read_parquet({source}) ORDER BY patient_id").fetchall()


@pytest.fixture(scope="session")
def clean_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "clean"
    write_population(PATIENTS, out, seed=SEED, workers=2)
    return out


@pytest.fixture(scope="session")
def broken_lines(clean_export: Path) -> dict[str, list[int]]:
    """The line numbers the broken lines get in the dirty export, per file."""
    numbers: dict[str, list[int]] = {}
    for name, lines in BROKEN.items():
        start = sum(1 for _ in (clean_export / name).open(encoding="utf-8"))
        numbers[name] = [start + i + 1 for i in range(len(lines))]
    return numbers


@pytest.fixture(scope="session")
def dirty_export(clean_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean export plus broken lines, one of them (an Observation) belonging to a real patient."""
    out = tmp_path_factory.mktemp("export") / "dirty"
    shutil.copytree(clean_export, out)
    patient = (out / "Patient.ndjson").open(encoding="utf-8").readline().split('"id":"')[1].split('"')[0]
    for name, lines in BROKEN.items():
        with (out / name).open("a", encoding="utf-8") as handle:
            for text in lines:
                handle.write(text.replace("PID", patient) + "\n")
    return out


@pytest.fixture(scope="session")
def local_result(dirty_export: Path, tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    out = tmp_path_factory.mktemp("local") / "results.parquet"
    return run_local(dirty_export, out, workers=2, as_of=AS_OF)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the whole test session (started only by tests that ask for it)."""
    from fbss.cohort.spark import session

    spark = session("local[2]", app_name="fbss-cohort-tests")
    spark.conf.set("spark.sql.shuffle.partitions", "4")
    yield spark
    spark.stop()
