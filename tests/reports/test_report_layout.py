"""The clinician report as laid out on paper: the decision summary on page 1, at most three pages before the appendix,
no table row cut across two pages, and no CSS the PDF renderer ignores."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import weasyprint
from weasyprint.formatting_structure.boxes import TableRowBox, TableRowGroupBox

from fbss.case.parse import read_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reports.documents import APPENDIX_ANCHOR, clinician_report_html, render_pdf
from fbss.reports.summary import decision_summary
from tests.conftest import EXAMPLES

# The examples whose reports are longest before the appendix (many red flags, many options, a long plan) and one
# of the shortest: if these fit, the others do (tests/reports measured every example when the limits were set).
LONGEST = (
    "arachnoiditis_after_three_operations",
    "csf_leak_with_meningism_after_dural_tear",
    "epidural_abscess_fever_weakness_seven_weeks_after_laminectomy",
    "sepsis_ten_days_after_instrumented_fusion",
    "adjacent_segment_stenosis_above_l4_5_fusion",
    "recurrent_herniation_after_discectomy",
)


def _rows_on(page: Any) -> set[int]:
    """Identity of the body rows (their HTML elements) that have a part on a page; a header row repeated on each
    page is not a cut row."""
    found: set[int] = set()
    stack = [page._page_box]
    while stack:
        box = stack.pop()
        if isinstance(box, TableRowGroupBox) and box.is_header:
            continue
        if isinstance(box, TableRowBox):
            found.add(id(box.element))
        stack.extend(getattr(box, "children", ()))
    return found


@pytest.mark.parametrize("name", LONGEST)
@pytest.mark.parametrize("page", ["A4", "Letter"])
def test_summary_first_then_at_most_three_pages_then_the_appendix(name: str, page: str, kb: KnowledgeBase) -> None:
    assessment = assess(read_case(EXAMPLES / f"{name}.json"), kb)
    rendered = render_pdf(clinician_report_html(assessment, kb, page=page))
    assert rendered.anchor_pages["summary"] == 0
    # Three pages before the appendix; four when red flags fired: their actions, definitive care and the open
    # red-flag screen come first and are never cut short.
    limit = 4 if assessment.triage.fired else 3
    assert rendered.anchor_pages[APPENDIX_ANCHOR] <= limit, f"more than {limit} pages before the appendix"
    assert rendered.pages > rendered.anchor_pages[APPENDIX_ANCHOR]  # the full reasoning is still there


@pytest.mark.parametrize("name", LONGEST[:3])
def test_no_table_row_is_cut_across_two_pages(name: str, kb: KnowledgeBase) -> None:
    assessment = assess(read_case(EXAMPLES / f"{name}.json"), kb)
    document = weasyprint.HTML(string=clinician_report_html(assessment, kb)).render()
    assert len(document.pages) > 3
    seen: set[int] = set()
    for number, page in enumerate(document.pages):
        rows = _rows_on(page)
        assert not rows & seen, f"a table row continues on page {number + 1}"
        seen |= rows


def test_the_renderer_ignores_nothing_in_the_report(kb: KnowledgeBase, caplog: pytest.LogCaptureFixture) -> None:
    """Charts are images and the stylesheet uses only what WeasyPrint reads: no 'Ignored …' warning."""
    assessment = assess(read_case(EXAMPLES / "cauda_equina_retention_day2_after_microdiscectomy.json"), kb)
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        weasyprint.HTML(string=clinician_report_html(assessment, kb)).render()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


def test_page_one_says_what_to_do_first(kb: KnowledgeBase) -> None:
    import pypdfium2 as pdfium

    assessment = assess(read_case(EXAMPLES / "cauda_equina_retention_day2_after_microdiscectomy.json"), kb)
    summary = decision_summary(assessment)
    pdf = pdfium.PdfDocument(render_pdf(clinician_report_html(assessment, kb)).data)
    text = " ".join(pdf[0].get_textpage().get_text_range().split())
    following = " ".join(pdf[1].get_textpage().get_text_range().split())
    assert "Decision summary" in text and "Act now" in text
    assert f"EMERGENCY — {assessment.triage.fired[0].title}" in text
    for test in summary.next_tests:
        assert test.title in text
    # the open red-flag screen comes before it, so the options may start on page 2
    assert "Elective options wait until the red flag has been dealt with." in text + following
    for cause in summary.causes:
        assert cause.title in text
