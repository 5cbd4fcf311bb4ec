"""Build the translation template: every string of the report templates and every patient-facing knowledge text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir

from fbss.instruments import InstrumentCatalogue, load_instruments
from fbss.instruments.models import InstrumentKind, LicenceStatus
from fbss.knowledge.base import KnowledgeBase
from fbss.reports.documents import TEMPLATES
from fbss.reports.i18n import REVIEW_NOTE


def knowledge_messages(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    """(text, where) for the knowledge texts a patient reads."""
    for cause in kb.causes:
        yield cause.title, f"causes.yaml:{cause.id}:title"
        yield cause.patient_summary, f"causes.yaml:{cause.id}:patient_summary"
    for flag in kb.red_flags:
        yield flag.patient_advice, f"red_flags.yaml:{flag.id}:patient_advice"
    education = kb.education
    if education is not None:
        for key, text in (
            ("intro", education.intro.text),
            ("about_scores", education.about_scores),
            ("next_steps_default", education.next_steps_default),
            ("urgent_help.title", education.urgent_help.title),
            ("urgent_help.action", education.urgent_help.action),
            ("exercises.title", education.exercises.title),
            ("exercises.caution", education.exercises.caution),
            ("no_likely_cause", education.no_likely_cause),
            ("exercises.withheld", education.exercises.withheld),
            ("next_steps_intro", education.next_steps_intro),
        ):
            yield text, f"patient_education.yaml:{key}"
        for sign in education.urgent_help.signs:
            yield sign, "patient_education.yaml:urgent_help.signs"
        for item in education.exercises.items:
            for text in (item.name, item.how, item.dose):
                yield text, f"patient_education.yaml:exercises:{item.name}"
        for caution in education.exercises.cautions:
            yield caution.text, f"patient_education.yaml:exercises.cautions:{caution.id}"
        for word in education.causes.words:
            yield word.text, "patient_education.yaml:causes.words"
        for urgency, text in education.act_on_flag.items():
            yield text, f"patient_education.yaml:act_on_flag:{urgency.value}"
        for wording in education.option_wording:
            for part, text in wording.parts.items():
                yield text, f"patient_education.yaml:option_wording:{wording.option}:{part}"
        comparison = education.comparison
        yield comparison.title, "patient_education.yaml:comparison.title"
        yield comparison.intro, "patient_education.yaml:comparison.intro"
        for heading in comparison.columns.values():
            yield heading, "patient_education.yaml:comparison.columns"
        for family in comparison.families:
            for part in ("name", *comparison.parts):
                yield getattr(family, part), f"patient_education.yaml:comparison:{family.name}"
    for path in kb.care.plan.cause_paths:  # the referral the handout names under "What happens next"
        yield path.title, f"plan.yaml:cause_paths:{path.cause}:title"
    for option in kb.care.treatments:
        if not option.elective:  # urgent care is not on the handout's option list
            continue
        where = f"treatments.yaml:{option.id}"
        yield option.title, f"{where}:title"
        for part in ("involves", "benefit", "risks", "recovery"):
            yield getattr(option.patient, part), f"{where}:patient.{part}"


# The web app's pages (the patient portal is translated; the clinician workspace reuses the same catalogue).
WEB_TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


def instrument_messages(catalogue: InstrumentCatalogue) -> Iterator[tuple[str, str]]:
    """(text, where) for the public-domain questionnaires a patient fills in the portal."""
    for instrument in catalogue:
        if instrument.licence.status is not LicenceStatus.public_domain:
            continue
        if instrument.kind is not InstrumentKind.questionnaire:
            continue
        where = f"instruments.yaml:{instrument.id}"
        yield instrument.title, f"{where}:title"
        if instrument.stem:
            yield instrument.stem, f"{where}:stem"
        for item in instrument.items:
            yield item.text or item.label, f"{where}:{item.id}"
            for option in item.options:
                yield option.label, f"{where}:{item.id}:options"
        for alert in instrument.alerts:
            yield alert.patient_message, f"{where}:alerts:{alert.id}"


def template_catalogue(
    kb: KnowledgeBase, crisis_message: str, instruments: InstrumentCatalogue | None = None
) -> Catalog:
    """The .pot catalogue: template strings (jinja2 gettext calls) of the reports and the web app, knowledge
    texts and the portal's questionnaires."""
    catalog = Catalog(project="FBSS Navigator", msgid_bugs_address="", fuzzy=False)
    method_map = [("**.html", "jinja2.ext:babel_extract")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n", "silent": "false"}}
    for directory, prefix in ((TEMPLATES, "templates"), (WEB_TEMPLATES, "web/templates")):
        for filename, lineno, message, comments, _context in extract_from_dir(
            str(directory), method_map=method_map, options_map=options
        ):
            if isinstance(message, str) and message:
                catalog.add(message, locations=[(f"{prefix}/{filename}", lineno)], auto_comments=comments)
    for text, where in instrument_messages(instruments or load_instruments()):
        catalog.add(text, locations=[(where, 0)])
    for text, where in knowledge_messages(kb):
        catalog.add(text, locations=[(where, 0)])
    catalog.add(crisis_message, locations=[("crisis_contacts.yaml:default_message", 0)])
    return catalog


def update_catalogues() -> list[str]:
    """Rewrite messages.pot and merge it into every language's .po (new strings arrive untranslated)."""
    import io

    from babel.messages.pofile import read_po, write_po

    from fbss.instruments import load_crisis_contacts
    from fbss.knowledge.loader import load_knowledge
    from fbss.reports.i18n import LANGUAGES, LOCALE_DIR

    template = template_catalogue(load_knowledge(), load_crisis_contacts().default_message)
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALE_DIR / "messages.pot").open("wb") as handle:
        write_po(handle, template, width=120, omit_header=False)
    written = ["messages.pot"]
    for lang in LANGUAGES:
        if lang == "en":
            continue
        path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="FBSS Navigator")
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if message.id and not message.string and REVIEW_NOTE not in message.user_comments:
                message.user_comments.append(REVIEW_NOTE)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=120, ignore_obsolete=True)
        path.write_bytes(buffer.getvalue())
        written.append(str(path.relative_to(LOCALE_DIR)))
    return written


if __name__ == "__main__":
    for name in update_catalogues():
        print("wrote", name)
