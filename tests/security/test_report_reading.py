"""Report reading stays linear in the length of the text: no document the pipeline sees is longer than a piece, no
sentence longer than the bound, and a long report read in pieces finds what its parts say, sections included.
(The time itself is measured by bench/nlp_adversarial_bench.py: 100k characters within 10x of 10k.)"""

from __future__ import annotations

import itertools
import sys
from typing import Any

import pytest

from fbss.nlp import extract
from fbss.nlp.chunks import CHUNK_CHARS, chunks
from fbss.nlp.pipeline import get_pipeline, run
from fbss.nlp.sentences import MAX_SENTENCE_TOKENS

RUN_ON = "no evidence of no recurrent herniation or no stenosis at L4-5 without ruling out "


def test_the_pipeline_never_sees_more_than_a_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 100,000 characters of nested negation took 307 s (ConText compares every modifier of a document with
    every finding in it: the square of the document's size)."""
    extractor = sys.modules["fbss.nlp.extract"]
    seen: list[int] = []
    longest: list[int] = []

    def recording(nlp: Any, text: str) -> Any:
        doc = run(nlp, text)
        seen.append(len(text))
        longest.append(max(len(sentence) for sentence in doc.sents))
        return doc

    monkeypatch.setattr(extractor, "run", recording)
    text = (RUN_ON * 400)[:30_000]
    result = extract(text)
    assert len(seen) >= 15 and max(seen) <= CHUNK_CHARS + 100  # a piece, and at most a heading before it
    assert max(longest) <= MAX_SENTENCE_TOKENS
    assert all(f.negated for f in result.findings if f.code.value == "recurrent_disc_herniation")
    assert [f.span.text for f in result.findings] == [text[f.span.start : f.span.end] for f in result.findings]


def test_pieces_cover_the_text_and_cut_at_blank_lines_first() -> None:
    paragraph = "FINDINGS: " + "Mild disc bulge at L4-5 without stenosis. " * 30
    text = "\n\n".join([paragraph] * 6)
    pieces = chunks(text)
    assert pieces[0].start == 0 and pieces[-1].end == len(text)
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    assert all(piece.end - piece.start <= CHUNK_CHARS for piece in pieces)
    assert all(text[: piece.start].endswith("\n\n") for piece in pieces[1:])
    assert chunks("x" * 5000)[0].end == CHUNK_CHARS  # no break at all: a hard cut


def test_a_long_report_read_in_pieces_keeps_its_sections() -> None:
    history = "HISTORY:\n" + "Prior epidural fibrosis was reported. " * 60
    findings = "FINDINGS:\n" + "There is recurrent disc herniation at L5-S1. " * 60
    result = extract(history + "\n\n" + findings)
    by_section = {(f.section, f.historical) for f in result.findings}
    assert ("history", True) in by_section  # carried over the cuts inside the history
    assert any(
        f.section == "findings" and f.code.value == "recurrent_disc_herniation" and f.affirmed for f in result.findings
    )
    get_pipeline()  # built once
