"""Translations through a gettext catalogue (Babel .po files, compiled in memory); English is the source language."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from fbss.errors import FbssError

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
REVIEW_NOTE = "clinical review: pending"


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise FbssError(f"language '{lang}' is not available; choose one of {', '.join(LANGUAGES)}")
    return lang


@cache
def catalog(lang: str) -> Catalog:
    """The parsed .po catalogue of a language."""
    path = LOCALE_DIR / check_language(lang) / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """gettext translations for a language (English: the source text itself)."""
    if check_language(lang) == "en":
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog(lang))
    buffer.seek(0)
    return Translations(buffer)


def needs_clinical_review(lang: str) -> bool:
    """True while any string of a language still carries the 'clinical review: pending' comment.

    A clinician fluent in the language removes the comment from each string once it is checked.
    """
    if lang == "en":
        return False
    return any(REVIEW_NOTE in message.user_comments for message in catalog(lang) if message.id)
