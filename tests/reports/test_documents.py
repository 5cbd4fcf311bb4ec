"""The clinician report and patient handout as a reader gets them: real PDFs rendered to images, in two languages."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from fbss.case.parse import read_case
from fbss.errors import FbssError
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment, assess
from fbss.reports.documents import clinician_report_html, handout_options, patient_handout_html, to_pdf
from fbss.reports.readability import flesch_kincaid_grade, visible_text
from tests.conftest import EXAMPLES

POINTS_PER_MM = 72 / 25.4


def assessment_of(name: str, kb: KnowledgeBase) -> Assessment:
    return assess(read_case(EXAMPLES / f"{name}.json"), kb)


def pdf_pages(data: bytes) -> tuple[list[tuple[float, float]], str, list[float]]:
    """Page sizes in points, all text, and the share of non-white pixels on each rendered page."""
    document = pdfium.PdfDocument(data)
    sizes, texts, ink = [], [], []
    for page in document:
        sizes.append(page.get_size())
        texts.append(page.get_textpage().get_text_range())
        image = page.render(scale=0.5).to_pil().convert("L")
        histogram = image.histogram()  # 256 bins of grey levels
        ink.append(sum(histogram[:200]) / sum(histogram))
    return sizes, "\n".join(texts), ink


def test_clinician_report_pdf_a4(kb: KnowledgeBase) -> None:
    assessment = assessment_of("recurrent_herniation_after_discectomy", kb)
    sizes, text, ink = pdf_pages(to_pdf(clinician_report_html(assessment, kb, page="A4")))
    assert sizes[0] == pytest.approx((210 * POINTS_PER_MM, 297 * POINTS_PER_MM), abs=1)
    assert "FBSS Navigator assessment" in text
    assert "Recurrent disc herniation" in text
    assert "Hueftle MG" in text  # the cited evidence is in the reference list
    assert all(share > 0.005 for share in ink), "a rendered page is blank"


def test_red_flags_lead_the_clinician_report(kb: KnowledgeBase) -> None:
    assessment = assessment_of("cauda_equina_retention_day2_after_microdiscectomy", kb)
    html = clinician_report_html(assessment, kb)
    assert html.index("EMERGENCY") < html.index("Likely causes")
    # the definitive treatment follows the action, before what fired the flag; under the emergency the open
    # questions fold to one line on page 1 and are listed as one checklist in the appendix
    assert html.index("Emergency MRI of the lumbosacral") < html.index("Definitive treatment") < html.index("Fired by")
    assert html.count('<p class="screen folded">') == 1 and '<div class="screen">' not in html
    assert html.index('class="screen folded"') < html.index('id="screen-full"')
    _, text, _ = pdf_pages(to_pdf(html))
    assert "Suspected cauda equina syndrome" in text
    assert "Definitive treatment" in text and "Already done" in text


def test_patient_handout_pdf_letter_and_spanish(kb: KnowledgeBase) -> None:
    assessment = assessment_of("recurrent_herniation_after_discectomy", kb)
    sizes, text, _ = pdf_pages(to_pdf(patient_handout_html(assessment, kb, lang="es", page="Letter")))
    assert sizes[0] == pytest.approx((612, 792), abs=1)
    assert "Su dolor de espalda después de la cirugía" in text
    assert "Hernia de disco recurrente" in text
    assert "pendiente de revisión clínica" in text


def test_handout_shows_urgent_advice_and_no_exercises_when_a_flag_fired(kb: KnowledgeBase) -> None:
    assessment = assessment_of("cauda_equina_retention_day2_after_microdiscectomy", kb)
    html = patient_handout_html(assessment, kb)
    assert "Please act on this now" in html
    assert "Go to the emergency department now" in html
    assert "Knee rolls" not in html
    calm = patient_handout_html(assessment_of("recurrent_herniation_after_discectomy", kb), kb)
    assert "Knee rolls" in calm and "Please act on this now" not in calm


def test_handout_lists_the_options_to_discuss_in_plain_words_unless_a_flag_fired(kb: KnowledgeBase) -> None:
    assessment = assessment_of("recurrent_herniation_after_discectomy", kb)
    html = patient_handout_html(assessment, kb)
    options = handout_options(assessment, kb)
    assert options
    assert "Treatments you can talk about with your team" in html
    for option in options:
        assert option["title"] in html and option["involves"] in html
    urgent = patient_handout_html(assessment_of("cauda_equina_retention_day2_after_microdiscectomy", kb), kb)
    assert "Treatments you can talk about" not in urgent


@pytest.mark.parametrize("case_file", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_handout_reads_at_about_grade_8(case_file: str, kb: KnowledgeBase) -> None:
    text = visible_text(patient_handout_html(assessment_of(case_file, kb), kb))
    assert flesch_kincaid_grade(text) <= 8.5


def test_bad_page_size_and_language(kb: KnowledgeBase) -> None:
    assessment = assessment_of("recurrent_herniation_after_discectomy", kb)
    with pytest.raises(FbssError, match="page size 'A5' is not supported"):
        clinician_report_html(assessment, kb, page="A5")
    with pytest.raises(FbssError, match="language 'de' is not available"):
        patient_handout_html(assessment, kb, lang="de")


def test_report_command_writes_a_pdf(tmp_path: Path) -> None:
    from tests.cli.test_cli import fbss

    out = tmp_path / "handout.pdf"
    run = fbss(
        "report", str(EXAMPLES / "recurrent_herniation_after_discectomy.json"), "--kind", "handout", "-o", str(out)
    )
    assert run.returncode == 0, run.stderr
    assert out.read_bytes().startswith(b"%PDF")


def test_clinician_report_carries_the_care_plan(kb: KnowledgeBase) -> None:
    assessment = assessment_of("recurrent_herniation_after_discectomy", kb)
    html = clinician_report_html(assessment, kb)
    sections = ["Likely causes", "Work-up", "Treatment options", "Spinal cord stimulation", "Stepped care plan"]
    assert [html.index(f">{s}</h2>") for s in sections] == sorted(html.index(f">{s}</h2>") for s in sections)
    _, text, _ = pdf_pages(to_pdf(html))
    flat = " ".join(text.split())
    assert "Revision micro- or endoscopic discectomy" in flat
    assert "uncertain 6/9" in flat  # no deficit, conservative care not yet tried: "could be considered"
    assert "Advice stopped" in flat
    assert assessment.plan.steps[0].title in flat
    spanish = clinician_report_html(assessment, kb, lang="es")
    assert "Plan de atención escalonada" in spanish and "Estudio diagnóstico" in spanish
