"""The cohort report: figures computed with DuckDB agree with the rows; the HTML holds every section and chart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from fbss.cohort.local import RunSummary
from fbss.cohort.patient import COLUMNS
from fbss.cohort.report import cohort_report_html, summarise
from tests.cohort.conftest import read_rows


def test_counts_and_rates_agree_with_the_rows(local_result: RunSummary) -> None:
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in read_rows(local_result.out)]
    summary = summarise(local_result.out)
    assert summary.patients == summary.assessed == len(rows)
    leading = Counter(r["cause_1"] for r in rows)
    assert {c.key: c.patients for c in summary.causes} == dict(leading)
    flags = Counter(flag for r in rows for flag in r["red_flags"])
    assert {c.key: c.patients for c in summary.red_flags} == dict(flags)
    assert sum(c.patients for c in summary.triage) == len(rows)
    assert sum(c.patients for c in summary.clinics) == len(rows)
    assert abs(sum(c.rate for c in summary.causes) - 1) < 1e-9
    assert summary.skipped_lines == 2


def test_html_has_every_section_with_inline_svg(local_result: RunSummary, tmp_path: Path) -> None:
    page = cohort_report_html(summarise(local_result.out))
    for heading in ("Red flags", "Triage", "Leading cause", "Causes among the top three", "By clinic", "Not assessed"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("<svg") >= 4
    assert "North Spine Centre" in page
    assert "<script" not in page
