"""The Spark engine (local[2]) gives the local engine's rows and skipped lines on the same export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fbss.cohort.local import RunSummary
from tests.cohort.conftest import AS_OF, read_rows

pytestmark = pytest.mark.slow


def test_spark_and_local_engines_give_identical_results(
    spark: Any, dirty_export: Path, local_result: RunSummary, tmp_path: Path
) -> None:
    from fbss.cohort.spark import run_spark

    out = tmp_path / "spark.parquet"
    summary = run_spark(str(dirty_export), out, spark=spark, partitions=3, as_of=AS_OF)
    assert out.is_dir()
    assert read_rows(out) == read_rows(local_result.out)
    assert summary.statuses == local_result.statuses
    assert summary.red_flag_patients == local_result.red_flag_patients
    assert summary.problems == local_result.problems
    assert summary.errors_file.read_text() == local_result.errors_file.read_text()
