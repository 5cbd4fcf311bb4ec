"""The Spark engine: the same per-patient assessment as the local engine, inside Spark tasks grouped by patient.

Each NDJSON file is read as text with its line numbers (`textFile().zipWithIndex()`), every line is routed with the
same `route_line` as the local engine into a DataFrame of (patient, file, line, text); Spark partitions it by patient
and sorts each partition (in the JVM, spilling to disk if need be), and `mapInArrow` hands each partition to Python
as Arrow record batches, where `assess_patient` (the local engine's per-patient function) turns each patient's run of
lines into a row, sent back as Arrow. The knowledge base is loaded once per Python worker. Rows are written as a
Parquet dataset directory; skipped lines are collected to the driver (they are few) into the errors file.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark import Accumulator, AccumulatorParam, StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf
from pyspark.sql import types as st

from fbss.cohort.local import BUCKET_BYTES, RunSummary, errors_path
from fbss.cohort.patient import SCHEMA, Outcome, PatientLine, RunSettings, assess_patient
from fbss.cohort.results import problem_order, write_problems
from fbss.cohort.routing import ORGANIZATION_PATTERN, LineProblem, route_line
from fbss.errors import FbssError
from fbss.fhir.resources import Validation

_SPARK_TYPES: dict[str, st.DataType] = {
    "string": st.StringType(),
    "int": st.LongType(),
    "float": st.DoubleType(),
    "date": st.DateType(),
    "strings": st.ArrayType(st.StringType()),
}


class _Problems(AccumulatorParam[list[LineProblem]]):
    """Skipped lines gathered on the driver as a side effect of the one pass over the data."""

    def zero(self, value: list[LineProblem]) -> list[LineProblem]:
        return []

    def addInPlace(self, value1: list[LineProblem], value2: list[LineProblem]) -> list[LineProblem]:  # noqa: N802
        value1.extend(value2)
        return value1


_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "strings": pa.list_(pa.string()),
}
_PROBLEM_FIELDS = (("file", "string"), ("line", "int"), ("reason", "string"), ("patient", "string"))  # LineProblem
BATCH_ROWS = 1024  # result rows per Arrow batch sent back to the JVM


def spark_schema() -> st.StructType:
    return st.StructType([st.StructField(c.name, _SPARK_TYPES[c.kind], True) for c in SCHEMA])


def _lines_schema() -> st.StructType:
    fields = (("patient", "string"), ("file", "string"), ("line", "int"), ("text", "string"))
    return st.StructType([st.StructField(name, _SPARK_TYPES[kind], False) for name, kind in fields])


def _outcomes_schema() -> st.StructType:
    """The result columns, plus the skipped lines of each patient (dropped before writing)."""
    problem = st.StructType([st.StructField(name, _SPARK_TYPES[kind], True) for name, kind in _PROBLEM_FIELDS])
    return st.StructType([*spark_schema().fields, st.StructField("skipped", st.ArrayType(problem), True)])


def _arrow_schema() -> pa.Schema:
    """`_outcomes_schema` as Arrow: what `assess_batches` sends back."""
    problem = pa.struct([(name, _ARROW_TYPES[kind]) for name, kind in _PROBLEM_FIELDS])
    columns = [pa.field(c.name, _ARROW_TYPES[c.kind]) for c in SCHEMA]
    return pa.schema([*columns, pa.field("skipped", pa.list_(problem))])


def session(master: str | None = None, app_name: str = "fbss-cohort") -> SparkSession:
    """A Spark session; with no master given, the one spark-submit configured, else local mode on all cores."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).config("spark.ui.enabled", "false")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    if master is not None:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _list_files(spark: SparkSession, export_dir: str) -> list[tuple[str, str, int]]:
    """(file name, URI, size) of the *.ndjson files under a directory on any Hadoop file system (local, HDFS, S3…)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    path = jvm.org.apache.hadoop.fs.Path(export_dir)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(path) or not fs.getFileStatus(path).isDirectory():
        raise FbssError(f"EXPORT_DIR: {export_dir} is not a directory")
    found = [
        (str(s.getPath().getName()), str(s.getPath().toString()), int(s.getLen()))
        for s in fs.listStatus(path)
        if s.isFile()
    ]
    files = sorted(
        ((name, uri, size) for name, uri, size in found if name.endswith(".ndjson")),
        key=lambda f: (not f[0].startswith("Patient"), f[0]),
    )
    if not files:
        raise FbssError(f"EXPORT_DIR: no .ndjson files in {export_dir} (expected Patient.ndjson, Condition.ndjson, …)")
    return files


def _route(
    name: str, problems: Accumulator[list[LineProblem]], numbered: Iterable[tuple[str, int]]
) -> Iterator[tuple[str, str, int, str]]:
    found = []
    for text, index in numbered:
        text = text.rstrip("\r")
        routed = route_line(text)
        if routed.patient is not None:
            yield routed.patient, name, index + 1, text
        elif routed.organization is None:  # organizations are read up front by _organizations
            found.append(LineProblem(name, index + 1, routed.problem or "unreadable line"))
    problems.add(found)


def _patients(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[str, list[PatientLine]]]:
    """Each patient's lines from Arrow batches of a partition sorted by patient (a patient may span batches)."""
    current: str | None = None
    lines: list[PatientLine] = []
    for batch in batches:
        columns = [batch.column(name).to_pylist() for name in ("patient", "file", "line", "text")]
        for patient, file, line, text in zip(*columns, strict=True):
            if patient != current:
                if current is not None:
                    yield current, lines
                current, lines = patient, []
            lines.append(PatientLine(file, line, text))
    if current is not None:
        yield current, lines


def _arrow_row(outcome: Outcome) -> dict[str, Any]:
    return {**outcome.row, "skipped": [problem._asdict() for problem in outcome.problems]}


def assess_batches(settings: RunSettings, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """`mapInArrow`: a partition's lines, sorted by patient, in; one row per patient out, as the local engine's."""
    settings.knowledge()
    schema = _arrow_schema()
    rows: list[dict[str, Any]] = []
    for patient, lines in _patients(batches):
        rows.append(_arrow_row(assess_patient(patient, lines, settings)))
        if len(rows) == BATCH_ROWS:
            yield pa.RecordBatch.from_pylist(rows, schema=schema)
            rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


def _organizations(spark: SparkSession, uris: list[str]) -> dict[str, str]:
    """Organization id -> name, from Organization lines anywhere in the export (filtered on the JVM side)."""
    lines = spark.read.text(uris).filter(sf.col("value").rlike(ORGANIZATION_PATTERN))
    clinics: dict[str, str] = {}
    for row in lines.collect():
        org = route_line(str(row["value"]).rstrip("\r")).organization
        if org is not None:
            clinics[org.id] = org.name or clinics.get(org.id) or org.id
    return clinics


def run_spark(
    export_dir: str,
    out: str | Path,
    *,
    spark: SparkSession | None = None,
    master: str | None = None,
    partitions: int | None = None,
    as_of: dt.date | None = None,
    knowledge_dir: Path | None = None,
    validation: Validation = Validation.lean,
) -> RunSummary:
    """Assess every patient of a bulk export on Spark into a Parquet dataset directory `out` (a path or a URI).

    The skipped lines go to `<out>.errors.jsonl` on the driver's file system: beside `out` when it is a local path,
    in the current directory when it is a URI (hdfs://, s3a://, …).
    """
    started = time.perf_counter()
    spark = spark or session(master)
    context = spark.sparkContext
    # lines end at "\n" only, as in the local engine (Hadoop's default also splits at a lone "\r")
    context._jsc.hadoopConfiguration().set("textinputformat.record.delimiter", "\n")
    files = _list_files(spark, export_dir)
    settings = RunSettings(
        as_of=as_of or dt.date.today(),
        clinics=_organizations(spark, [uri for _name, uri, _size in files]),
        knowledge_dir=str(knowledge_dir) if knowledge_dir else None,
        validation=validation,
    )
    problems = context.accumulator([], _Problems())
    routed = context.union(
        [
            context.textFile(uri).zipWithIndex().mapPartitions(partial(_route, name, problems))
            for name, uri, _size in files
        ]
    )
    # at least 4 per core, and no more text per partition than in a local bucket: a task's memory stays the same
    # however large the cohort
    total = sum(size for _name, _uri, size in files)
    default = max(2, context.defaultParallelism * 4, math.ceil(total / BUCKET_BYTES))
    lines = spark.createDataFrame(routed, schema=_lines_schema())
    grouped = lines.repartition(partitions or default, "patient").sortWithinPartitions("patient")
    outcomes = grouped.mapInArrow(partial(assess_batches, settings), _outcomes_schema())
    outcomes.persist(StorageLevel.MEMORY_AND_DISK)
    outcomes.drop("skipped").sortWithinPartitions("patient_id").write.mode("overwrite").parquet(str(out))
    local_out = Path(str(out)) if "://" not in str(out) else Path(str(out).rstrip("/").rsplit("/", 1)[-1])
    skipped = outcomes.select(sf.explode("skipped").alias("p")).select("p.file", "p.line", "p.reason", "p.patient")
    # a retried task adds its lines again: the same (file, line) is one problem
    found = set(problems.value) | {LineProblem(r[0], int(r[1]), r[2], r[3]) for r in skipped.collect()}
    summary = RunSummary(out=local_out, errors_file=errors_path(local_out))
    statuses = outcomes.groupBy("status").count().collect()
    summary.statuses = {str(row[0]): int(row[1]) for row in statuses}
    summary.patients = sum(summary.statuses.values())
    summary.red_flag_patients = outcomes.filter(sf.col("red_flag_count") > 0).count()
    outcomes.unpersist()
    ordered = sorted(found, key=problem_order)
    write_problems(ordered, summary.errors_file)
    summary.problems = ordered[:1000]
    summary.problem_count = len(ordered)
    summary.seconds["spark"] = time.perf_counter() - started
    return summary
