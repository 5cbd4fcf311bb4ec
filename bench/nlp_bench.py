"""Report NLP throughput: bare medspaCy with our target rules versus the full FBSS reader, on the same texts.

Run: uv run python bench/nlp_bench.py [--rounds 5]
"full pipeline" adds the line-break sentence rule, the sectionizer and the FBSS ConText rules; "full reader"
is the public `extract()`: input checks, the full pipeline, then levels, sides, modality, derived findings.
Reports per second per core = reports / CPU seconds of this single process (the pipeline is single-threaded).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from fbss.nlp.evaluate import load_corpus
from fbss.nlp.extract import extract
from fbss.nlp.pipeline import build_pipeline, get_pipeline, run
from fbss.nlp.rules import default_rules


@dataclass(frozen=True)
class Result:
    name: str
    reports: int
    wall: float
    cpu: float

    @property
    def per_core(self) -> float:
        return self.reports / self.cpu if self.cpu else float("inf")

    @property
    def per_second(self) -> float:
        return self.reports / self.wall if self.wall else float("inf")


def measure(name: str, work: Callable[[str], Any], texts: list[str], rounds: int) -> Result:
    for text in texts[:10]:  # warm-up: lazy imports and caches
        work(text)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for text in texts:
            work(text)
    return Result(name, rounds * len(texts), time.perf_counter() - wall0, time.process_time() - cpu0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the corpus per configuration")
    args = parser.parse_args()
    texts = [passage.text for passage in load_corpus()]
    rules = default_rules()
    import medspacy  # noqa: F401 - import once before timing the builds

    started = time.perf_counter()
    bare = build_pipeline(rules, full=False)
    bare_build = time.perf_counter() - started
    started = time.perf_counter()
    full = get_pipeline()
    full_build = time.perf_counter() - started

    results = [
        measure("bare: medspacy.load() + targets", lambda t: run(bare, t), texts, args.rounds),
        measure("full pipeline (spaCy part)", lambda t: run(full, t), texts, args.rounds),
        measure("full reader: extract()", extract, texts, args.rounds),
    ]
    mean_chars = sum(len(t) for t in texts) / len(texts)
    table = Table(
        title=f"Report NLP: {len(texts)} passages (mean {mean_chars:.0f} chars) x {args.rounds} rounds",
        title_justify="left",
    )
    for column in ("configuration", "reports", "reports/s per core", "reports/s wall", "ms/report"):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for result in results:
        table.add_row(
            result.name,
            str(result.reports),
            f"{result.per_core:,.0f}",
            f"{result.per_second:,.0f}",
            f"{1000 * result.cpu / result.reports:.2f}",
        )
    console = Console()
    console.print(table)
    console.print(f"pipeline build: bare {bare_build:.2f} s, full {full_build:.2f} s (once per process)")
    console.print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs visible")


if __name__ == "__main__":
    main()
