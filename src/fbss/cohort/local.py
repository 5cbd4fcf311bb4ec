"""The local engine: a bulk export indexed by patient bucket, buckets assessed on all cores, resumable.

Layout of the work directory (default: `<out>.work` next to the output):

    manifest.json              the inputs (names, sizes, times), bucket count, as-of date, byte ranges; `staged` once
                               stage 1 ends
    index/range-00003.npy      stage 1: where each line of byte range 3 is and its patient's bucket (`export_index`)
    staging/problems.jsonl     lines that could not be attributed to a patient
    staging/organizations.json Organization id -> name
    parts/part-00007.parquet   stage 2: the rows of bucket 7, written atomically; its presence marks the bucket done
    problems/part-00007.jsonl  the lines of bucket 7 skipped as malformed, written before the part

Both stages run on all cores: stage 1 reads the export in byte ranges, stage 2 reads each bucket's lines from the
export files at the offsets the index gives (no copy of the export is written). A run that is interrupted (even by
SIGKILL) is resumed by running the same command again: stage 1 is redone if it had not finished, finished buckets are
skipped, and every patient lives in exactly one bucket, so no patient is written twice. At the end the parts are
assembled into one Parquet file and the work directory is removed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from fbss.cohort.export_index import RangeDone, first_lines, index_range, range_problems, read_bucket
from fbss.cohort.patient import RunSettings, assess_patient
from fbss.cohort.ranges import ByteRange, split_ranges
from fbss.cohort.results import (
    assemble,
    connect,
    problem_order,
    read_problems,
    replace_atomically,
    write_parquet,
    write_problems,
)
from fbss.cohort.routing import ExportFile, LineProblem, export_files
from fbss.errors import FbssError
from fbss.fhir.read_models import read_models
from fbss.fhir.resources import Validation

MANIFEST_VERSION = 2
BUCKET_BYTES = 32_000_000  # text per bucket: bounds a worker's memory whatever the cohort size
RANGE_BYTES = 32_000_000  # text per byte range read in stage 1


@dataclass
class RunSummary:
    """What a run did, for the summary table and the benchmark."""

    out: Path
    errors_file: Path
    patients: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    red_flag_patients: int = 0
    problems: list[LineProblem] = field(default_factory=list)
    problem_count: int = 0
    buckets: int = 0
    buckets_resumed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


Advance = Callable[[str, float, float | None], None]  # (phase, amount done, new total or None)


def _ignore(_phase: str, _amount: float, _total: float | None) -> None:
    return None


def _inputs(files: list[ExportFile]) -> list[dict[str, Any]]:
    return [{"name": f.path.name, "size": f.size, "mtime_ns": f.path.stat().st_mtime_ns} for f in files]


def default_work_dir(out: Path) -> Path:
    return out.with_name(out.name + ".work")


def errors_path(out: Path) -> Path:
    """Where the machine-readable list of skipped lines goes: `results.errors.jsonl` beside `results.parquet`."""
    return out.with_name(out.name.removesuffix(".parquet") + ".errors.jsonl")


def bucket_count(total_bytes: int, workers: int) -> int:
    return max(workers * 8, math.ceil(total_bytes / BUCKET_BYTES))


# --- stage 1: index every line by its patient's bucket, byte range by byte range -------------------------------


def _stage(
    files: list[ExportFile], work: Path, buckets: int, workers: int, range_bytes: int, advance: Advance
) -> dict[str, Any]:
    for folder in ("staging", "index"):
        shutil.rmtree(work / folder, ignore_errors=True)
        (work / folder).mkdir(parents=True)
    ranges = split_ranges([f.size for f in files], range_bytes)
    index = partial(_index_range, str(work), tuple(str(f.path) for f in files), buckets)
    found: list[RangeDone | None] = [None] * len(ranges)
    if workers > 1 and len(ranges) > 1:
        with multiprocessing.get_context("fork").Pool(min(workers, len(ranges))) as pool:
            for done in pool.imap_unordered(index, enumerate(ranges)):
                found[done.position] = done
                advance("stage", float(ranges[done.position].end - ranges[done.position].start), None)
    else:
        for item in enumerate(ranges):
            found[item[0]] = index(item)
            advance("stage", float(item[1].end - item[1].start), None)
    results = [done for done in found if done is not None]
    firsts = first_lines(ranges, [done.lines for done in results])
    paths = [f.path for f in files]
    problems = [
        problem
        for r, first, done in zip(ranges, firsts, results, strict=True)
        for problem in range_problems(done, r, first, paths)
    ]
    organizations: dict[str, str] = {}
    for done in results:  # in file and line order: a later line naming an organization wins, as it always did
        for org in done.organizations:
            organizations[org.id] = org.name or organizations.get(org.id) or org.id
    staging = work / "staging"
    write_problems(problems, staging / "problems.jsonl")
    (staging / "organizations.json").write_text(json.dumps(organizations, sort_keys=True), encoding="utf-8")
    return {
        "bucket_patients": [sum(column) for column in zip(*(done.bucket_patients for done in results), strict=True)],
        "lines": sum(done.lines for done in results),
        "ranges": [[*r, first] for r, first in zip(ranges, firsts, strict=True)],
    }


def _index_range(work: str, files: tuple[str, ...], buckets: int, item: tuple[int, ByteRange]) -> RangeDone:
    return index_range(Path(work), [Path(f) for f in files], buckets, *item)


# --- stage 2: assess bucket by bucket in worker processes --------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    work: str
    files: tuple[str, ...]  # paths
    ranges: tuple[ByteRange, ...]
    first_lines: tuple[int, ...]
    settings: RunSettings


_JOB: _Job | None = None
_CONNECTION: duckdb.DuckDBPyConnection | None = None


def _init_worker(job: _Job) -> None:
    global _JOB, _CONNECTION
    _JOB = job
    _CONNECTION = connect()
    job.settings.knowledge()  # load the knowledge base once per worker, before the first bucket


@dataclass(frozen=True)
class BucketDone:
    bucket: int
    patients: int
    statuses: dict[str, int]
    red_flag_patients: int
    problems: int


def assess_bucket(bucket: int, job: _Job, connection: duckdb.DuckDBPyConnection) -> BucketDone:
    """Assess every patient of one indexed bucket; write its problems, then its part file (the completion mark)."""
    work, settings = Path(job.work), job.settings
    grouped = read_bucket(work, bucket, job.ranges, job.first_lines, [Path(f) for f in job.files])
    rows = []
    problems: list[LineProblem] = []
    statuses: dict[str, int] = {}
    flagged = 0
    for patient in sorted(grouped):
        outcome = assess_patient(patient, grouped[patient], settings)
        rows.append(outcome.row)
        problems += outcome.problems
        statuses[outcome.row["status"]] = statuses.get(outcome.row["status"], 0) + 1
        flagged += bool(outcome.row["red_flag_count"])
    write_problems(sorted(problems, key=problem_order), work / "problems" / f"part-{bucket:05d}.jsonl")
    write_parquet(rows, work / "parts" / f"part-{bucket:05d}.parquet", connection)
    return BucketDone(bucket, len(rows), statuses, flagged, len(problems))


def _run_bucket(bucket: int) -> BucketDone:
    assert _JOB is not None and _CONNECTION is not None, "worker not initialised"
    return assess_bucket(bucket, _JOB, _CONNECTION)


# --- the run -----------------------------------------------------------------------------------------------------


def _load_manifest(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # a manifest torn by a crash: start over
    return data if data.get("version") == MANIFEST_VERSION else None


def _save_manifest(path: Path, manifest: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    replace_atomically(temporary, path)


def _collect_problems(work: Path, buckets: int) -> Iterator[LineProblem]:
    yield from read_problems(work / "staging" / "problems.jsonl")
    for bucket in range(buckets):
        yield from read_problems(work / "problems" / f"part-{bucket:05d}.jsonl")


def run_local(
    export_dir: Path,
    out: Path,
    *,
    workers: int | None = None,
    as_of: dt.date | None = None,
    knowledge_dir: Path | None = None,
    work_dir: Path | None = None,
    keep_work: bool = False,
    validation: Validation = Validation.lean,
    advance: Advance = _ignore,
    range_bytes: int = RANGE_BYTES,
) -> RunSummary:
    """Assess every patient of a bulk export into one Parquet file; resume an interrupted run of the same export."""
    workers = workers or os.cpu_count() or 1
    files = export_files(export_dir)
    work = work_dir or default_work_dir(out)
    work.mkdir(parents=True, exist_ok=True)
    manifest_path = work / "manifest.json"
    inputs = _inputs(files)
    manifest = _load_manifest(manifest_path)
    if manifest is not None and manifest["inputs"] != inputs:
        raise FbssError(
            f"{work} holds an unfinished run over a different export; delete it to start over, or pass --work-dir"
        )
    if manifest is not None and manifest.get("validation", Validation.lean.value) != validation.value:
        started_as = "with" if manifest.get("validation") == Validation.strict.value else "without"
        raise FbssError(f"{work} holds a run started {started_as} --strict; resume it the same way, or delete it")
    summary = RunSummary(out=out, errors_file=errors_path(out))
    started = time.perf_counter()
    if manifest is None or not manifest.get("staged"):
        buckets = bucket_count(sum(f.size for f in files), workers)
        manifest = {
            "version": MANIFEST_VERSION,
            "inputs": inputs,
            "buckets": buckets,
            "as_of": (as_of or dt.date.today()).isoformat(),
            "validation": validation.value,
            "staged": False,
        }
        _save_manifest(manifest_path, manifest)
        for leftover in ("parts", "problems"):
            shutil.rmtree(work / leftover, ignore_errors=True)
        advance("stage", 0, float(sum(f.size for f in files)))
        manifest.update(_stage(files, work, buckets, workers, range_bytes, advance), staged=True)
        _save_manifest(manifest_path, manifest)
    summary.seconds["stage"] = time.perf_counter() - started
    buckets = int(manifest["buckets"])
    summary.buckets = buckets
    for folder in ("parts", "problems"):
        (work / folder).mkdir(exist_ok=True)
        for stale in (work / folder).glob(".*.tmp"):
            stale.unlink()
    done = {int(p.stem.removeprefix("part-")) for p in (work / "parts").glob("part-*.parquet")}
    summary.buckets_resumed = len(done)
    bucket_patients: list[int] = manifest["bucket_patients"]
    advance("assess", float(sum(bucket_patients[b] for b in done)), float(sum(bucket_patients)))
    clinics = json.loads((work / "staging" / "organizations.json").read_text(encoding="utf-8"))
    settings = RunSettings(
        as_of=dt.date.fromisoformat(manifest["as_of"]),
        clinics=clinics,
        knowledge_dir=str(knowledge_dir) if knowledge_dir else None,
        validation=validation,
    )
    if validation is Validation.lean:
        read_models()  # built once here, so that every forked worker starts with them
    ranges = tuple(ByteRange(*r[:3]) for r in manifest["ranges"])
    job = _Job(str(work), tuple(str(f.path) for f in files), ranges, tuple(r[3] for r in manifest["ranges"]), settings)
    pending = [b for b in range(buckets) if b not in done]
    # biggest buckets first: the last worker to finish is not left holding a large one
    pending.sort(key=lambda b: -bucket_patients[b])
    started = time.perf_counter()
    if pending:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(workers, len(pending)), initializer=_init_worker, initargs=(job,)) as pool:
            for result in pool.imap_unordered(_run_bucket, pending):
                advance("assess", float(result.patients), None)
    summary.seconds["assess"] = time.perf_counter() - started
    started = time.perf_counter()
    connection = connect()
    assemble([work / "parts" / f"part-{b:05d}.parquet" for b in range(buckets)], out, connection)
    problems = sorted(_collect_problems(work, buckets), key=problem_order)
    write_problems(problems, summary.errors_file)
    summary.problems = problems[:1000]
    summary.problem_count = len(problems)
    _summarise(summary, out, connection)
    summary.seconds["assemble"] = time.perf_counter() - started
    if not keep_work:
        shutil.rmtree(work)
    return summary


def _summarise(summary: RunSummary, out: Path, connection: duckdb.DuckDBPyConnection) -> None:
    literal = "'" + str(out).replace("'", "''") + "'"
    query = f"SELECT status, count(*) FROM read_parquet({literal}) GROUP BY 1"
    for status, count in connection.execute(query).fetchall():
        summary.statuses[str(status)] = int(count)
    summary.patients = sum(summary.statuses.values())
    flagged = connection.execute(f"SELECT count(*) FROM read_parquet({literal}) WHERE red_flag_count > 0").fetchone()
    summary.red_flag_patients = int(flagged[0]) if flagged else 0
