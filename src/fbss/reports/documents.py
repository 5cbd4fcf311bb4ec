"""The clinician report and the patient handout, as HTML and as PDF (A4 or Letter), in any catalogued language."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from fbss.errors import FbssError
from fbss.instruments import load_crisis_contacts
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.evidence import Source
from fbss.reasoning.assess import Assessment
from fbss.reasoning.care_results import Label
from fbss.reasoning.results import Reason
from fbss.reports.care_view import CareView, care_view
from fbss.reports.care_wording import missing
from fbss.reports.charts import OutcomeChart, differential_chart, outcome_chart, svg_image
from fbss.reports.collector import fewer_collections
from fbss.reports.i18n import check_language, needs_clinical_review, translations
from fbss.reports.safety_view import safety_view
from fbss.reports.summary import decision_summary
from fbss.reports.wording import (
    EVIDENCE_LABEL,
    URGENCY_LABEL,
    asks,
    calibration_lines,
    cause_percent,
    finding_phrase,
    fired_by_text,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_SIZES = {"a4": "A4", "letter": "Letter"}
SHOWN_CAUSES = 10
HANDOUT_CAUSES = 3
EXERCISE_OPTION = "physiotherapy_exercise"  # the home exercise sheet is given as this option is rated
# What "the reasons in brief" shows before the appendix: sized so that summary and brief fit in three pages.
KEY_CAUSES = 5
KEY_TESTS = 4
KEY_OPTIONS = 5
KEY_STEPS = 5
APPENDIX_ANCHOR = "appendix"


@cache
def _environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(translations(lang), newstyle=False)  # type: ignore[attr-defined]
    env.globals["asks"] = asks
    env.globals["fired_by"] = fired_by_text
    return env


def _page(page: str) -> str:
    try:
        return PAGE_SIZES[page.lower()]
    except KeyError:
        raise FbssError(f"page size '{page}' is not supported; choose A4 or Letter") from None


def _cited(assessment: Assessment, care: CareView) -> list[str]:
    """Source ids in order of first citation in the report."""
    seen: dict[str, None] = {}
    seen.update(dict.fromkeys(safety_view(assessment).sources()))
    for cause in assessment.differential.causes[:SHOWN_CAUSES]:
        seen.update(dict.fromkeys(cause.prior_sources))
        for reason in (*cause.raised_by, *cause.lowered_by):
            seen.update(dict.fromkeys(reason.sources))
    seen.update(dict.fromkeys(care.sources()))
    return list(seen)


@dataclass(frozen=True)
class ReportSection:
    """Extra HTML a later stage of the engine contributes to the clinician report (already escaped)."""

    html: str


def clinician_report_html(
    assessment: Assessment,
    kb: KnowledgeBase,
    lang: str = "en",
    page: str = "A4",
    extra_sections: tuple[ReportSection, ...] = (),
) -> str:
    """The assessment for the chart or a multidisciplinary meeting: page 1 the decision summary, then the reasons in
    brief (at most three pages in all), then an appendix with the full reasoning (red flags, causes, work-up, option
    ratings, SCS advice, the stepped plan, outcome charts) and numbered references."""
    env = _environment(check_language(lang))
    care = care_view(assessment, kb)
    cited = _cited(assessment, care)
    references: list[Source] = [kb.sources[s] for s in cited if s in kb.sources]
    phrase: Callable[[Reason], str] = lambda r: finding_phrase(r.title, r.state, r.observed)  # noqa: E731
    chart = differential_chart(
        assessment.differential.causes[:KEY_CAUSES], assessment.differential.ceiling, top=KEY_CAUSES
    )
    return env.get_template("clinician_report.html").render(
        a=assessment,
        summary=decision_summary(assessment),
        lang=lang,
        page=_page(page),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        chart=svg_image(chart, "Bar chart of the most likely causes"),
        shown_causes=SHOWN_CAUSES,
        key_causes=KEY_CAUSES,
        key_tests=KEY_TESTS,
        key_options=KEY_OPTIONS,
        key_steps=KEY_STEPS,
        urgency={u.value: label for u, label in URGENCY_LABEL.items()},
        evidence={e.value: label for e, label in EVIDENCE_LABEL.items()},
        ref_number={s: i + 1 for i, s in enumerate(cited)},
        references=references,
        percent=cause_percent(assessment.differential),
        calibration=calibration_lines(assessment.differential),
        phrase=phrase,
        review_pending=needs_clinical_review(lang),
        extra_sections=[s.html for s in extra_sections],
        care=care,
        safety=safety_view(assessment),
        missing=missing,
    )


def outcomes_section(charts: Sequence[OutcomeChart], lang: str = "en") -> ReportSection:
    """Outcome charts for the clinician report of a stored patient: the same charts as the web page."""
    env = _environment(check_language(lang))
    svgs = [svg_image(outcome_chart(chart), chart.title) for chart in charts]
    return ReportSection(env.get_template("_outcomes.html").render(charts=svgs))


def exercise_advice(assessment: Assessment, kb: KnowledgeBase) -> tuple[bool, tuple[str, ...]]:
    """Whether the home exercise sheet may go to this patient, gated as physiotherapy is (no red flag, its requirement
    met, nothing capping it such as the first months after a fusion), and the patient cautions that hold."""
    rating = next((r for r in assessment.options.options if r.id == EXERCISE_OPTION), None)
    if rating is None or kb.education is None or assessment.triage.fired:
        return False, ()
    capped = any(b.effect.startswith("cap") for b in rating.because)
    safe = rating.label is not Label.inappropriate and not capped
    holding = {b.rule for b in rating.because if b.effect == "caution"}
    return safe, tuple(c.text for c in kb.education.exercises.cautions if c.id in holding)


def patient_handout_html(
    assessment: Assessment,
    kb: KnowledgeBase,
    lang: str = "en",
    page: str = "A4",
    next_steps: tuple[str, ...] = (),
    show_exercises: bool | None = None,
    today: dt.date | None = None,
) -> str:
    """A plain-language handout: likely causes, next steps, exercises when safe, and when to seek urgent help."""
    if kb.education is None:
        raise FbssError("the knowledge base has no patient_education.yaml; the handout needs it")
    env = _environment(check_language(lang))
    education = kb.education
    causes: list[dict[str, Any]] = []
    by_id = {c.id: c for c in kb.causes}
    shown = [c for c in assessment.differential.causes if c.probability >= education.causes.shown_from]
    for result in shown[:HANDOUT_CAUSES]:
        causes.append(
            {
                "title": result.title,
                "summary": by_id[result.cause].patient_summary,
                "likelihood": education.causes.word(result.probability),
            }
        )
    exercise_safe, exercise_cautions = exercise_advice(assessment, kb)
    if show_exercises is None:
        show_exercises = exercise_safe
    return env.get_template("patient_handout.html").render(
        lang=lang,
        page=_page(page),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        edu=kb.education,
        causes=causes,
        urgent_flags=assessment.triage.fired,
        next_steps=list(next_steps),
        # the plan's shared-decision grid, in plain words; none while a red flag is being dealt with
        options=[] if assessment.triage.fired else list(assessment.plan.grid),
        show_exercises=show_exercises,
        exercise_cautions=exercise_cautions,
        crisis=load_crisis_contacts().default_message,
        review_pending=needs_clinical_review(lang),
        today=(today or dt.date.today()).isoformat(),
    )


@dataclass(frozen=True)
class RenderedPdf:
    """A PDF and where its parts landed: the page (0-based) each anchor (element id) starts on."""

    data: bytes
    pages: int
    anchor_pages: dict[str, int]


@cache
def _fonts() -> Any:
    """One font configuration for every document of the process: the fonts are found and loaded once."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_pdf(html: str) -> RenderedPdf:
    """Render HTML (with its own @page size) to a PDF, noting the page each anchor starts on."""
    import weasyprint  # imported here: it loads Pango, which only PDF output needs

    # WeasyPrint warns about each CSS declaration it does not use, and fontTools about font subsets: useful to
    # whoever edits the templates (tests/reports checks there are none), noise in a clinic's log. Errors still show.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with fewer_collections():
        document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render(font_config=_fonts())
        anchors: dict[str, int] = {}
        for number, page in enumerate(document.pages):
            for anchor in page.anchors:
                anchors.setdefault(anchor, number)
        data: bytes = document.write_pdf()
    return RenderedPdf(data, len(document.pages), anchors)


def warm_up() -> bool:
    """Load WeasyPrint and the fonts now (a few seconds), so that the first report a clinician asks for comes as fast
    as the others; False when PDF output is not available here (no Pango)."""
    try:
        render_pdf("<p>FBSS Navigator</p>")
    except OSError:  # Pango missing: the app runs, PDF downloads say what is missing when asked for
        return False
    return True


def to_pdf(html: str) -> bytes:
    """Render HTML (with its own @page size) to PDF bytes."""
    return render_pdf(html).data
