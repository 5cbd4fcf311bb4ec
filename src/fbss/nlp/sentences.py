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


@Language.component("fbss_line_breaks")
def line_breaks(doc: Any) -> Any:
    """Start a sentence after a line break that ends a statement; join hard-wrapped lines otherwise."""
    text = doc.text
    for token in doc[1:]:
        if token.is_space:
            if "\n" in token.text:
                token.is_sent_start = False  # whitespace stays with the sentence it follows
            continue
        if "\n" in doc[token.i - 1].text_with_ws:
            token.is_sent_start = starts_statement(text, token.idx)
    return doc
