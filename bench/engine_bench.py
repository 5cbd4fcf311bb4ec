"""Assessments per second on one core: JSON parsing alone, the engine alone (explanations included), and both.

The engine is measured twice: the diagnostic core (findings, red-flag triage, differential) and the whole
`assess()` (plus option ratings, SCS advice, work-up by value of information and the stepped plan).

Then the batch engine against the per-case path on the same synthetic cases, their findings read once: triage with
the likely emergencies and the ranked differential, one case at a time (explanations included, as `assess()` builds
them) or all at once with `assess_batch` (the columns only), and what stacking the states into a matrix costs.

Run: uv run python bench/engine_bench.py [--seconds 3] [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fbss.case.model import Case
from fbss.case.parse import parse_case
from fbss.cohort.synth import synth_cases
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import load_knowledge
from fbss.reasoning.assess import assess
from fbss.reasoning.batch import assess_batch, state_matrix
from fbss.reasoning.differential import differential
from fbss.reasoning.findings import FindingStates, read_findings
from fbss.reasoning.likely_emergency import with_likely_emergencies
from fbss.reasoning.triage import triage
from fbss.reports.data import to_data

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "cases"


def rate(work: Callable[[], int], seconds: float) -> float:
    """Items per second, repeating `work` (which returns how many items it did) for about `seconds`."""
    work()  # warm caches
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += work()
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--batch", type=int, default=2000, help="synthetic cases for the batch engine (0: skip)")
    args = parser.parse_args()
    kb = load_knowledge()
    texts = [p.read_bytes() for p in sorted(EXAMPLES.glob("*.json"))]
    cases = [parse_case(t) for t in texts]
    n = len(cases)

    parse_rate = rate(lambda: [parse_case(t) for t in texts] and n, args.seconds)

    def diagnose(case: Case) -> None:
        findings = read_findings(case, kb)
        triage(findings, kb)
        differential(findings, kb)

    core_rate = rate(lambda: [diagnose(c) for c in cases] and n, args.seconds)
    engine_rate = rate(lambda: [assess(c, kb) for c in cases] and n, args.seconds)
    both_rate = rate(lambda: [assess(parse_case(t), kb) for t in texts] and n, args.seconds)
    json_rate = rate(lambda: [json.dumps(to_data(assess(c, kb), kb)) for c in cases] and n, args.seconds)

    table = Table(title=f"FBSS Navigator engine, one core, {n} example cases")
    table.add_column("step")
    table.add_column("cases/s", justify="right")
    table.add_column("µs/case", justify="right")
    table.add_column("cost vs parsing", justify="right")
    for name, value in (
        ("parse JSON into a validated Case", parse_rate),
        ("diagnostic core: triage + differential", core_rate),
        ("whole assess(): core + care planning", engine_rate),
        ("parse + assess", both_rate),
        ("assess + full JSON output", json_rate),
    ):
        table.add_row(name, f"{value:,.0f}", f"{1e6 / value:,.1f}", f"{parse_rate / value:.1f}×")
    Console().print(table)
    if args.batch:
        batch_table(kb, args.batch, args.seconds, parse_rate)


def batch_table(kb: KnowledgeBase, patients: int, seconds: float, parse_rate: float) -> None:
    """Per-case triage + differential against `assess_batch` on the same cases, their findings read once."""
    findings = [read_findings(case, kb) for case, _clinic in synth_cases(patients, seed=3)]
    n = len(findings)

    def one(f: FindingStates) -> None:
        causes = differential(f, kb)
        with_likely_emergencies(triage(f, kb), causes, f.state, kb)

    per_case = rate(lambda: [one(f) for f in findings] and n, seconds)
    matrix = state_matrix(findings, kb)
    stack = rate(lambda: len(state_matrix(findings, kb)), seconds)
    batch = rate(lambda: len(assess_batch(matrix, kb).level), seconds)
    both = rate(lambda: len(assess_batch(state_matrix(findings, kb), kb).level), seconds)
    table = Table(title=f"Batch engine against one case at a time, {n:,} synthetic cases, findings read once")
    table.add_column("step")
    table.add_column("cases/s", justify="right")
    table.add_column("µs/case", justify="right")
    table.add_column("cost vs parsing", justify="right")
    table.add_column("speed-up vs per case", justify="right")
    for name, value in (
        ("per case: triage + likely emergencies + differential", per_case),
        ("stack the finding states into a matrix", stack),
        ("assess_batch on the matrix", batch),
        ("stack + assess_batch", both),
    ):
        row = (f"{value:,.0f}", f"{1e6 / value:,.1f}", f"{parse_rate / value:.2f}×", f"{value / per_case:.1f}×")
        table.add_row(name, *row)
    Console().print(table)


if __name__ == "__main__":
    main()
