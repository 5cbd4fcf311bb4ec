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
from fbss.reasoning.results import Reason
from fbss.reports.care_view import CareView, care_view
from fbss.reports.care_wording import missing
from fbss.reports.charts import OutcomeChart, differential_chart, outcome_chart, scoped_svg
from fbss.reports.i18n import check_language, needs_clinical_review, translations
from fbss.reports.wording import EVIDENCE_LABEL, URGENCY_LABEL, asks, finding_phrase, percent

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_SIZES = {"a4": "A4", "letter": "Letter"}
SHOWN_CAUSES = 10
HANDOUT_CAUSES = 3


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
    return env


def _page(page: str) -> str:
    try:
        return PAGE_SIZES[page.lower()]
    except KeyError:
        raise FbssError(f"page size '{page}' is not supported; choose A4 or Letter") from None


def _cited(assessment: Assessment, care: CareView) -> list[str]:
    """Source ids in order of first citation in the report."""
    seen: dict[str, None] = {}
    for flag in assessment.triage.fired:
        seen.update(dict.fromkeys(flag.sources))
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
    """The full assessment for the chart or a multidisciplinary meeting: red flags, causes, work-up, option
    ratings, SCS advice and the stepped plan, with numbered references."""
    env = _environment(check_language(lang))
    care = care_view(assessment, kb)
    cited = _cited(assessment, care)
    references: list[Source] = [kb.sources[s] for s in cited if s in kb.sources]
    phrase: Callable[[Reason], str] = lambda r: finding_phrase(r.title, r.state, r.observed)  # noqa: E731
    return env.get_template("clinician_report.html").render(
        a=assessment,
        lang=lang,
        page=_page(page),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        chart=differential_chart(assessment.differential.causes),
        shown_causes=SHOWN_CAUSES,
        urgency={u.value: label for u, label in URGENCY_LABEL.items()},
        evidence={e.value: label for e, label in EVIDENCE_LABEL.items()},
        ref_number={s: i + 1 for i, s in enumerate(cited)},
        references=references,
        percent=percent,
        phrase=phrase,
        review_pending=needs_clinical_review(lang),
        extra_sections=[s.html for s in extra_sections],
        care=care,
        missing=missing,
    )


def outcomes_section(charts: Sequence[OutcomeChart], lang: str = "en") -> ReportSection:
    """Outcome charts for the clinician report of a stored patient: the same charts as the web page."""
    env = _environment(check_language(lang))
    svgs = [scoped_svg(outcome_chart(chart), f"outcome-{i}") for i, chart in enumerate(charts)]
    return ReportSection(env.get_template("_outcomes.html").render(charts=svgs))


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
    causes: list[dict[str, Any]] = []
    by_id = {c.id: c for c in kb.causes}
    for result in assessment.differential.causes[:HANDOUT_CAUSES]:
        causes.append({"title": result.title, "summary": by_id[result.cause].patient_summary})
    if show_exercises is None:
        show_exercises = not assessment.triage.fired
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
        crisis=load_crisis_contacts().default_message,
        review_pending=needs_clinical_review(lang),
        today=(today or dt.date.today()).isoformat(),
    )


def to_pdf(html: str) -> bytes:
    """Render HTML (with its own @page size) to PDF bytes."""
    import weasyprint  # imported here: it loads Pango, which only PDF output needs

    # WeasyPrint warns about each CSS declaration it does not use, and fontTools about font subsets: useful to
    # whoever edits the templates (tests/reports checks there are none), noise in a clinic's log. Errors still show.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    result: bytes = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return result
