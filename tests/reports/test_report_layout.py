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


def _page_texts(name: str, kb: KnowledgeBase) -> list[str]:
    import pypdfium2 as pdfium

    assessment = assess(read_case(EXAMPLES / f"{name}.json"), kb)
    pdf = pdfium.PdfDocument(render_pdf(clinician_report_html(assessment, kb)).data)
    return [" ".join(page.get_textpage().get_text_range().split()) for page in pdf]


def test_under_an_airway_emergency_page_one_leads_with_it_and_folds_the_screen(kb: KnowledgeBase) -> None:
    """Neck swelling and stridor the evening after an ACDF: the airway action leads page 1; the 19 open red-flag
    questions are one line there, asked once the emergency is in hand, and listed in the appendix."""
    assessment = assess(read_case(EXAMPLES / "neck_haematoma_evening_after_acdf.json"), kb)
    pages = _page_texts("neck_haematoma_evening_after_acdf", kb)
    first, rest = pages[0], " ".join(pages[1:])
    opened = len(assessment.triage.screen.open)
    assert opened > 10
    line = f"Red-flag screen: {opened} question(s) open — to ask once the emergency action is under way"
    assert "Act now" in first and line in first
    assert first.index("EMERGENCY — Neck swelling or airway compromise") < first.index(line)
    for question in assessment.triage.screen.open:  # not on page 1, all in the appendix
        text = " ".join((question.question or question.title).split())
        assert text not in first and text in rest


def test_what_fired_a_flag_reads_as_a_clinician_writes_it(kb: KnowledgeBase) -> None:
    pages = _page_texts("neck_haematoma_evening_after_acdf", kb)
    text = " ".join(pages)
    assert "Fired by: Within the first month after surgery (day 0); Stridor" in text
    retention = " ".join(_page_texts("cauda_equina_retention_day2_after_microdiscectomy", kb))
    assert "Post-void residual above 200 mL (650 mL)" in retention
    assert "Within the first month after surgery (day 2)" in retention
    for shown in (text, retention):
        assert "[0" not in shown and "(0.0" not in shown and "True" not in shown and "(0.07" not in shown


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("rod_fracture_after_l3_s1_fusion", "Act within days"),
        ("cage_migration_eight_weeks_after_plif", "Act the same day"),
        ("recurrent_herniation_after_discectomy", "Red flags"),
    ],
)
def test_the_red_flag_heading_says_how_soon(name: str, heading: str, kb: KnowledgeBase) -> None:
    """Only an emergency is 'act now': a flag to act on within days or the same day is headed as such."""
    first = _page_texts(name, kb)[0]
    assert f"Decision summary {heading}" in first
    assert "Act now" not in first
