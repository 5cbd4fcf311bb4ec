"""A pipeline component that decides, at each line break, whether a new sentence starts there.

Reports are often hard-wrapped, so a line break alone must not end a sentence ("No recurrent herniation or
<newline> fluid collection" is one sentence); but headings, level headings ("L4-5: ...") and list items
start one.
"""

from __future__ import annotations

import re
from typing import Any

from spacy.language import Language

_STATEMENT_END = re.compile(r"[.:;!?]\s*$")
_NEW_STATEMENT = re.compile(
    r"^\s*(?:[-•*]|\d+[.)]\s|[A-Z][A-Za-z /&-]{0,40}:|[CTLS]\d{1,2}(?:\s*[-/]\s*[CTLS]?\d{1,2})?\s*:)"
)


def starts_statement(text: str, line_start: int) -> bool:
    """Whether the line beginning at `line_start` (just after a line break) opens a new sentence."""
    before = text[max(0, line_start - 400) : line_start]  # a bounded look-back keeps long reports linear
    content = before.rstrip()
    if not content or before[len(content) :].count("\n") >= 2:  # start of text or after a blank line
        return True
    previous = content[content.rfind("\n") + 1 :]
    if _STATEMENT_END.search(previous):
        return True
    letters = [c for c in previous if c.isalpha()]
    if letters and all(c.isupper() for c in letters):  # a title line such as "MRI LUMBAR SPINE"
        return True
    end = text.find("\n", line_start)
    return bool(_NEW_STATEMENT.match(text[line_start : end if end >= 0 else len(text)]))


MAX_SENTENCE_TOKENS = 120
"""A sentence longer than this is cut (at a comma, semicolon or conjunction when there is one): ConText compares
every modifier of a sentence with every finding in it, so an unbounded sentence made reading quadratic (100,000
characters of one run-on sentence took minutes). Real report sentences are far shorter."""
_SOFT_BREAKS = frozenset({",", ";", "and", "or", "but", "with", "without"})


def _bound_sentences(doc: Any) -> None:
    """Cut sentences longer than MAX_SENTENCE_TOKENS, preferring a break after a comma or before a conjunction
    in the last quarter of the window."""
    start = 0
    soft: int | None = None
    for token in doc:
        i = token.i
        if i == 0:
            continue
        if token.is_sent_start:
            start, soft = i, None
            continue
        if token.lower_ in _SOFT_BREAKS and i - start >= MAX_SENTENCE_TOKENS * 3 // 4:
            soft = i + 1 if token.text in (",", ";") else i
        if i - start >= MAX_SENTENCE_TOKENS:
            cut = soft if soft is not None and soft < len(doc) and soft > start else i
            doc[cut].is_sent_start = True
            start, soft = cut, None


@Language.component("fbss_line_breaks")
def line_breaks(doc: Any) -> Any:
    """Start a sentence after a line break that ends a statement; join hard-wrapped lines otherwise; cut run-on
    sentences at MAX_SENTENCE_TOKENS."""
    text = doc.text
    for token in doc[1:]:
        if token.is_space:
            if "\n" in token.text:
                token.is_sent_start = False  # whitespace stays with the sentence it follows
            continue
        if "\n" in doc[token.i - 1].text_with_ws:
            token.is_sent_start = starts_statement(text, token.idx)
    _bound_sentences(doc)
    return doc
