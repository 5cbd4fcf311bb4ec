"""The result table on disk: rows to Parquet written atomically (with DuckDB), and the problems file (JSON Lines)."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from fbss.cohort.patient import SCHEMA
from fbss.cohort.routing import LineProblem

SQL_TYPES = {"string": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "date": "DATE", "strings": "VARCHAR[]"}


def sql_columns() -> str:
    """The result columns as a DuckDB `columns={...}` struct literal."""
    return "{" + ", ".join(f"'{c.name}': '{SQL_TYPES[c.kind]}'" for c in SCHEMA) + "}"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one thread: the engines parallelise over processes, not inside them."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET threads = 1")
    connection.execute("SET preserve_insertion_order = true")
    return connection


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to the result table")


def temporary_for(path: Path) -> Path:
    # unique per process, so a leftover worker of a killed run never clobbers the file a new run is writing
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def replace_atomically(temporary: Path, final: Path) -> None:
    """Make a fully written file visible under its final name in one step (after flushing it to disk)."""
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, final)


def write_parquet(rows: Sequence[dict[str, Any]], path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    """Write rows to a Parquet file that either exists complete or not at all."""
    staged = path.with_name(f".{path.name}.{os.getpid()}.jsonl")
    with staged.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")
    temporary = temporary_for(path)
    copy_to_parquet(
        connection,
        f"SELECT * FROM read_json({_literal(staged)}, format='newline_delimited', columns={sql_columns()})",
        temporary,
    )
    staged.unlink()
    replace_atomically(temporary, path)


ROW_GROUP_ROWS = 8192  # DuckDB buffers a whole row group before writing it: small groups keep memory flat


def copy_to_parquet(connection: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    connection.execute(
        f"COPY ({query}) TO {_literal(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
    )


def assemble(parts: Sequence[Path], out: Path, connection: duckdb.DuckDBPyConnection) -> None:
    """Concatenate part files, in the order given, into one Parquet file, atomically; streamed, so memory stays flat.

    Each part holds one bucket's patients ordered by patient id. The parts are not sorted together: DuckDB holds
    every row of a global ORDER BY in memory (rows with lists do not spill), which grows with the cohort.
    """
    temporary = temporary_for(out)
    if parts:
        files = "[" + ", ".join(_literal(p) for p in parts) + "]"
        copy_to_parquet(connection, f"SELECT * FROM read_parquet({files})", temporary)
    else:
        write_parquet([], temporary, connection)
    replace_atomically(temporary, out)


def problem_record(problem: LineProblem) -> dict[str, Any]:
    return {"file": problem.file, "line": problem.line, "patient": problem.patient, "reason": problem.reason}


def write_problems(problems: Iterable[LineProblem], path: Path) -> None:
    """Problems as JSON Lines, written atomically."""
    temporary = temporary_for(path)
    with temporary.open("w", encoding="utf-8") as handle:
        for problem in problems:
            handle.write(json.dumps(problem_record(problem), ensure_ascii=False) + "\n")
    replace_atomically(temporary, path)


def read_problems(path: Path) -> list[LineProblem]:
    found = []
    with path.open(encoding="utf-8") as handle:
        for text in handle:
            data = json.loads(text)
            found.append(LineProblem(data["file"], int(data["line"]), data["reason"], data.get("patient")))
    return found


def problem_order(problem: LineProblem) -> tuple[str, int]:
    return (problem.file, problem.line)
