"""The cohort report: figures computed with DuckDB agree with the rows; the HTML holds every section and chart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from fbss.cohort.local import RunSummary
from fbss.cohort.patient import COLUMNS
from fbss.cohort.report import CARE_COLUMNS, cohort_report_html, summarise
from tests.cohort.conftest import read_rows


def test_counts_and_rates_agree_with_the_rows(local_result: RunSummary) -> None:
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in read_rows(local_result.out)]
    summary = summarise(local_result.out)
    assert summary.patients == summary.assessed == len(rows)
    leading = Counter(r["cause_1"] or "not_ranked" for r in rows)  # a cervical or thoracic case ranks no cause
    assert {c.key: c.patients for c in summary.causes} == dict(leading)
    flags = Counter(flag for r in rows for flag in r["red_flags"])
    assert {c.key: c.patients for c in summary.red_flags} == dict(flags)
    assert sum(c.patients for c in summary.triage) == len(rows)
    assert sum(c.patients for c in summary.clinics) == len(rows)
    assert abs(sum(c.rate for c in summary.causes) - 1) < 1e-9
    assert summary.skipped_lines == 2
    advice = Counter(r["scs_advice"] or "stopped (contraindication)" for r in rows)
    assert {c.key: c.patients for c in summary.advice} == dict(advice)
    stopped = Counter(rule for r in rows for rule in r["scs_stopped_by"])
    assert {c.key: c.patients for c in summary.advice_stopped_by} == dict(stopped)
    for category in summary.categories:
        labels = Counter(r[f"rating_{category.key}"] for r in rows)
        assert (category.appropriate, category.uncertain, category.inappropriate) == (
            labels["appropriate"],
            labels["uncertain"],
            labels["inappropriate"],
        )
    assert [c.key for c in summary.categories] == [
        "conservative",
        "minimally_invasive",
        "neurostimulation",
        "reoperation",
    ]
    appropriate = Counter(option for r in rows for option in r["appropriate_options"])
    assert {c.key: c.patients for c in summary.appropriate_options} == dict(appropriate)
    assert {c.key: c.patients for c in summary.next_tests} == dict(Counter(r["next_test"] or "none" for r in rows))
    urgent = Counter(test for r in rows for test in r["urgent_tests"])
    assert {c.key: c.patients for c in summary.urgent_tests} == dict(urgent)
    suggested = Counter(test for r in rows for test in {*r["urgent_tests"], *r["ranked_tests"]})
    assert {c.key: c.patients for c in summary.suggested_tests} == dict(suggested)
    missing = Counter(finding for r in rows for finding in r["missing_data"])
    assert {c.key: c.patients for c in summary.missing} == dict(missing)
    assert summary.missing_per_patient == sum(r["missing_count"] for r in rows) / len(rows)
    by_clinic = Counter(r["clinic"] or "(no managing organization)" for r in rows if r["urgent_tests"])
    assert {c.clinic: c.urgent_tests for c in summary.clinics if c.urgent_tests} == dict(by_clinic)


def test_html_has_every_section_with_inline_svg(local_result: RunSummary, tmp_path: Path) -> None:
    page = cohort_report_html(summarise(local_result.out))
    headings = (
        "Red flags",
        "Triage",
        "Leading cause",
        "Causes among the top three",
        "Spinal cord stimulation advice",
        "Treatment options",
        "Options rated appropriate",
        "Work-up needed",
        "Tests suggested",
        "Missing data",
        "By clinic",
        "Not assessed",
    )
    for heading in headings:
        assert f"<h2>{heading}</h2>" in page
    assert page.count("<svg") >= 10
    assert "<th>SCS recommended</th>" in page
    assert "North Spine Centre" in page
    assert "<script" not in page


def test_results_without_the_care_columns_still_make_a_report(local_result: RunSummary, tmp_path: Path) -> None:
    older = tmp_path / "older.parquet"
    kept = ", ".join(c for c in COLUMNS if c not in CARE_COLUMNS and c != "scs_advice")
    duckdb.sql(f"COPY (SELECT {kept} FROM read_parquet('{local_result.out}')) TO '{older}' (FORMAT parquet)")
    summary = summarise(older)
    assert summary.patients == len(read_rows(local_result.out))
    assert not summary.categories and not summary.advice and summary.clinics[0].urgent_tests is None
    page = cohort_report_html(summary)
    assert "<h2>By clinic</h2>" in page and "<h2>Work-up needed</h2>" not in page
