"""The translation catalogue is complete, current, and marked for clinical review."""

from __future__ import annotations

from babel.messages.pofile import read_po

from fbss.instruments import load_crisis_contacts
from fbss.knowledge.base import KnowledgeBase
from fbss.reports.catalogue import template_catalogue
from fbss.reports.i18n import LANGUAGES, LOCALE_DIR, catalog, needs_clinical_review, translations


def test_template_catalogue_is_current(kb: KnowledgeBase) -> None:
    fresh = {m.id for m in template_catalogue(kb, load_crisis_contacts().default_message) if m.id}
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        stored = {m.id for m in read_po(handle) if m.id}
    assert fresh == stored, "run: uv run python -m fbss.reports.catalogue"


def test_every_language_translates_every_string(kb: KnowledgeBase) -> None:
    wanted = {m.id for m in template_catalogue(kb, load_crisis_contacts().default_message) if m.id}
    for lang in LANGUAGES:
        if lang == "en":
            continue
        translated = {m.id for m in catalog(lang) if m.id and m.string}
        assert wanted <= translated, sorted(wanted - translated)[:5]


def test_spanish_is_marked_for_clinical_review() -> None:
    assert needs_clinical_review("es")
    assert not needs_clinical_review("en")
    assert translations("es").gettext("Red flags") == "Signos de alarma"
