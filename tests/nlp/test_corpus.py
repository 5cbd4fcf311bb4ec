"""The reader on the annotated corpus: micro-F1 of at least 0.90 and no negated mention read as present."""

from __future__ import annotations

from pathlib import Path

import pytest

from fbss.nlp.evaluate import CORPUS_DIR, Evaluation, evaluate, load_corpus

from .test_rules import REQUIRED

HELD_OUT = Path(__file__).parent / "heldout"


@pytest.fixture(scope="module")
def corpus_result() -> Evaluation:
    return evaluate(load_corpus(CORPUS_DIR))


def test_corpus_is_large_and_covers_every_required_finding() -> None:
    passages = load_corpus(CORPUS_DIR)
    assert len(passages) >= 80
    present = {str(e.code) for p in passages for e in p.present}
    assert present >= REQUIRED
    assert sum(len(p.negated) for p in passages) >= 50
    assert sum(len(p.uncertain) for p in passages) >= 15


def test_micro_f1_on_corpus(corpus_result: Evaluation) -> None:
    assert corpus_result.micro.f1 >= 0.90, corpus_result.misses


def test_no_negated_or_hedged_mention_is_read_as_present(corpus_result: Evaluation) -> None:
    assert corpus_result.negation_violations == []


def test_held_out_passages() -> None:
    result = evaluate(load_corpus(HELD_OUT))
    assert result.micro.f1 >= 0.85, result.misses
    assert result.negation_violations == []
