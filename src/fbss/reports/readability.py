"""Reading level of plain-language text: the Flesch-Kincaid grade (Kincaid et al., 1975), measured on our handouts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    """Approximate English syllable count: vowel groups, minus a silent final 'e', at least one."""
    word = word.lower()
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_kincaid_grade(text: str) -> float:
    """0.39 x words/sentences + 11.8 x syllables/words - 15.59."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(_SENTENCE_END.findall(text)))
    total_syllables = sum(syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * total_syllables / len(words) - 15.59


class _TextOnly(HTMLParser):
    """Visible text of a document; list items and headings end a sentence."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip -= 1
        elif tag in ("li", "h1", "h2", "h3", "p"):
            self.parts.append(".\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    return re.sub(r"\.(\s*\.)+", ".", " ".join(parser.parts))
