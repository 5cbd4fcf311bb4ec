"""A run killed with SIGKILL in the middle, then run again, gives exactly the file an uninterrupted run gives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fbss.cohort.local import RunSummary, default_work_dir, run_local
from tests.cohort.conftest import AS_OF, read_rows


def _command(export: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "fbss.cli",
        "cohort",
        "run",
        str(export),
        "--out",
        str(out),
        "--workers",
        "1",
        "--as-of",
        AS_OF.isoformat(),
    ]


def test_killed_and_resumed_run_equals_an_uninterrupted_one(
    dirty_export: Path, local_result: RunSummary, tmp_path: Path
) -> None:
    out = tmp_path / "resumed.parquet"
    parts = default_work_dir(out) / "parts"
    process = subprocess.Popen(
        _command(dirty_export, out), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None and not list(parts.glob("part-*.parquet")):
        time.sleep(0.02)
    assert process.poll() is None, (
        f"the run ended before it could be killed: {process.stderr and process.stderr.read()}"
    )
    os.killpg(process.pid, signal.SIGKILL)  # the run and its worker processes, with no chance to clean up
    process.wait()
    done_before = len(list(parts.glob("part-*.parquet")))
    manifest = json.loads((default_work_dir(out) / "manifest.json").read_text())
    assert 1 <= done_before < manifest["buckets"], "the kill did not land in the middle of the run"
    assert not out.exists()

    summary = run_local(dirty_export, out, workers=2)
    assert summary.buckets_resumed >= done_before
    assert read_rows(out) == read_rows(local_result.out)
    assert summary.errors_file.read_text() == local_result.errors_file.read_text()
    assert not default_work_dir(out).exists()


def test_a_run_killed_while_grouping_starts_grouping_again(
    dirty_export: Path, local_result: RunSummary, tmp_path: Path
) -> None:
    out = tmp_path / "restaged.parquet"
    work = default_work_dir(out)
    (work / "index").mkdir(parents=True)
    (work / "index" / "range-00000.npy").write_bytes(b"\x93NUMPY half an index")
    summary = run_local(dirty_export, out, workers=2, as_of=AS_OF)
    assert summary.buckets_resumed == 0
    assert read_rows(out) == read_rows(local_result.out)
