"""What a clinician reads, for every example case: words and values with units, never an internal value or code."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from fbss.case.parse import read_case
from fbss.fhir.cds_cards import CardContext, cards_for
from fbss.fhir.importer import ImportReport
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reports.documents import clinician_report_html, patient_handout_html
from fbss.reports.markdown import render_markdown
from fbss.reports.terminal import render_assessment
from fbss.reports.wording import ask_next
from tests.conftest import EXAMPLES

CTX = CardContext(patient_id="p-1", hook_instance="h-1", app_base_url="https://fbss.example.org")

# What a reader must never see, by what it is.
RAW = {
    # a number in brackets with no name or unit: 'More than 2 years since surgery (89.3)', 'Already done … (650)';
    # a citation's issue number, '2014;4(2)', and a count after a label, 'Sources (15)', are not one
    "bare number in brackets": re.compile(r"(?<![\d;:\w])(?<!Sources )(?<!now )\(-?\d+(?:\.\d+)?\)"),
    "likelihood ratio with raw decimals": re.compile(r"(?:LR |×)\d+\.\d{3,}"),
    "rule code": re.compile(r"\[(?:set|cap) \d|\[[+−-]\d\]|\[caution\]"),
    "months with a decimal in the header": re.compile(r"\d+\.\d months after"),
    "question mark then semicolon": re.compile(r"\?;"),
    "raw decimal in square brackets": re.compile(r"\[\d+\.\d+\]"),
    "doubled quotes": re.compile(r'""|“"|"”'),
    "a value that repeats its finding": re.compile(r"\((?:different|same as before)\)"),
    "'already known' with nothing said": re.compile(r"result is already known"),
}

CASES = sorted(path.stem for path in EXAMPLES.glob("*.json"))


def visible(markup: str) -> str:
    """The text of an HTML page as read: no style, script or tag, entities decoded."""
    markup = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", " ", markup, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def raw_in(text: str) -> list[str]:
    """Each raw pattern found, with the words around it, so a failure shows where."""
    found = []
    for name, pattern in RAW.items():
        for match in pattern.finditer(text):
            around = " ".join(text[max(0, match.start() - 80) : match.end() + 20].split())
            found.append(f"{name}: …{around}…")
    return found


def outputs(path: Path, kb: KnowledgeBase) -> dict[str, str]:
    """Everything a clinician reads about one case: terminal text, Markdown, the report (en, es), the handout and
    the CDS Hooks cards."""
    assessment = assess(read_case(path), kb)
    terminal = io.StringIO()
    render_assessment(assessment, kb, Console(file=terminal, width=200, color_system=None))
    cards = [card.model_dump(mode="json") for card in cards_for(assessment, ImportReport(), kb, CTX)]
    return {
        "assessment text": terminal.getvalue(),
        "markdown": render_markdown(assessment, kb),
        "clinician report (en)": visible(clinician_report_html(assessment, kb, lang="en")),
        "clinician report (es)": visible(clinician_report_html(assessment, kb, lang="es")),
        "handout": visible(patient_handout_html(assessment, kb, lang="en")),
        "CDS Hooks cards": json.dumps(cards, ensure_ascii=False).replace("\\n", "\n"),
    }


@pytest.mark.parametrize("name", CASES)
def test_no_raw_value_or_code_reaches_the_reader(name: str, kb: KnowledgeBase) -> None:
    problems = {
        where: found for where, text in outputs(EXAMPLES / f"{name}.json", kb).items() if (found := raw_in(text))
    }
    assert not problems, "\n".join(f"{where}: {line}" for where, lines in problems.items() for line in lines[:5])


def test_the_patterns_catch_what_the_old_wording_printed() -> None:
    old = (
        "More than 2 years since surgery (89.3) LR 0.487805; Pain is new and different from before surgery "
        "(different); Bladder scan — Post-void residual above 200 mL (650); [set 6]; Case x · 0.0 months after "
        'fusion; Any fever?; Refer; [20.73]; ""word""; Discography — Its result is already known'
    )
    assert {line.split(":")[0] for line in raw_in(old)} == set(RAW)
    assert not raw_in("Global Spine J 2014;4(2):83-88; More than 2 years since surgery (7.4 years) (LR 3)")


def test_the_differential_gives_values_with_units_and_ratios_to_two_figures(kb: KnowledgeBase) -> None:
    text = render_markdown(assess(read_case(EXAMPLES / "adjacent_segment_stenosis_above_l4_5_fusion.json"), kb), kb)
    assert "More than 2 years since surgery (7.4 years) (LR 3)" in text
    assert "Pain-free interval of at least 6 months (6.5 years)" in text
    assert "Pain is new and different from before surgery (LR 1.5)" in text
    assert "(LR 0.67)" in text and "0.666667" not in text


def test_an_urgent_test_already_done_gives_its_value_with_the_unit(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLES / "cauda_equina_retention_day2_after_microdiscectomy.json")
    text = render_markdown(assess(case, kb), kb)
    assert "Post-void residual above 200 mL (650 mL)" in text


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("cold_leg_day1_after_alif", "day 1 after fusion"),
        ("epidural_haematoma_on_mri_day1_after_laminectomy", "day 1 after decompression"),
        ("adjacent_segment_stenosis_above_l4_5_fusion", "7.4 years after fusion"),
    ],
)
def test_the_header_says_the_time_since_surgery_in_days_weeks_months_or_years(
    name: str, header: str, kb: KnowledgeBase
) -> None:
    assessment = assess(read_case(EXAMPLES / f"{name}.json"), kb)
    terminal = io.StringIO()
    render_assessment(assessment, kb, Console(file=terminal, width=200, color_system=None))
    assert header in terminal.getvalue()
    assert header in visible(clinician_report_html(assessment, kb))
    spanish = header.replace("day", "día").replace("years", "años").replace("after", "después de")
    assert spanish in visible(clinician_report_html(assessment, kb, lang="es"))


def test_a_case_without_a_surgery_date_says_so(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLES / "recurrent_herniation_after_discectomy.json")
    index = case.index_surgery.model_copy(update={"date": None})
    course = case.course.model_copy(update={"months_since_surgery": None})
    assessment = assess(case.model_copy(update={"index_surgery": index, "course": course}), kb)
    assert assessment.derived.months_since_surgery is None
    assert "time since surgery not given" in visible(clinician_report_html(assessment, kb))
    assert "tiempo desde la cirugía no indicado" in visible(clinician_report_html(assessment, kb, lang="es"))


def test_a_rating_rule_reads_by_its_name_and_its_effect_in_words(kb: KnowledgeBase) -> None:
    assessment = assess(read_case(EXAMPLES / "recurrent_herniation_after_discectomy.json"), kb)
    report = visible(clinician_report_html(assessment, kb))
    assert "score set to" in report and "[set" not in report
    assert "puntuación fijada en" in visible(clinician_report_html(assessment, kb, lang="es"))


def test_a_test_not_needed_says_what_is_already_recorded(kb: KnowledgeBase) -> None:
    assessment = assess(read_case(EXAMPLES / "adjacent_segment_stenosis_above_l4_5_fusion.json"), kb)
    known = {s.test: s.reason for s in assessment.workup.not_suggested if s.kind == "known"}
    assert known and all(
        reason.startswith(("Already done: ", "What it looks for is already answered")) for reason in known.values()
    )
    assert "Intradural or cord lesion on imaging: no" in known["mri_whole_spine"]


@pytest.mark.parametrize("name", ["cold_leg_day1_after_alif", "misplaced_pedicle_screw_day3_after_tlif"])
def test_a_question_on_the_red_flag_screen_is_not_asked_again_below(name: str, kb: KnowledgeBase) -> None:
    assessment = assess(read_case(EXAMPLES / f"{name}.json"), kb)
    screen = {q.question for q in assessment.triage.screen.open}
    repeated = [q.question for q in assessment.differential.ask_next if q.question in screen]
    assert repeated  # the engine ranks it for the differential too …
    text = render_markdown(assessment, kb)
    for question in repeated:
        assert text.count(str(question)) == 2  # … but it is asked once in the checklist (and once in the plan's step)
    assert all(q.question not in screen for q in ask_next(assessment))
