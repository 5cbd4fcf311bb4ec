"""A pipeline component that starts a new sentence at a line break which ends a heading, list item or line."""

from __future__ import annotations

import re
from typing import Any

from spacy.language import Language

# A line break ends a sentence unless the report is merely hard-wrapped: the next line then starts in lower case.
_NEW_LINE_STARTS = re.compile(r"[A-Z0-9\-•*(\[]")


@Language.component("fbss_line_breaks")
def line_breaks(doc: Any) -> Any:
    """Mark the first token after a line break as a sentence start when the next line begins a new statement."""
    for token in doc[:-1]:
        if "\n" not in token.text_with_ws:
            continue
        following = doc[token.i + 1]
        blank_line = token.text_with_ws.count("\n") + following.text.count("\n") > 1 or token.is_space
        if following.is_space:
            continue
        if blank_line or _NEW_LINE_STARTS.match(following.text) or token.text.endswith((":", ".")):
            following.is_sent_start = True
    return doc
