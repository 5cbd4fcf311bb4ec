"""The batch engine gives every case exactly the triage and differential the per-case assessment gives it."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fbss.case.model import Case, Presence
from fbss.case.parse import parse_case
from fbss.cohort.synth import synth_cases
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import default_knowledge
from fbss.knowledge.models import AllOf, AnyOf, Not
from fbss.reasoning.assess import assess
from fbss.reasoning.batch import assess_batch, compile_columns, state_matrix
from fbss.reasoning.differential import differential
from fbss.reasoning.findings import FindingStates, evaluate_expression, read_findings
from fbss.reasoning.likely_emergency import with_likely_emergencies
from fbss.reasoning.triage import triage
from tests.strategies import valid_cases

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"
SYNTHETIC = 2000
KB = default_knowledge()


def _per_case(findings: FindingStates, kb: KnowledgeBase) -> tuple[object, ...]:
    """What a cohort row reads of the per-case assessment: ranking with probabilities, unexplained share, triage."""
    causes = differential(findings, kb)
    flags = with_likely_emergencies(triage(findings, kb), causes, findings.state, kb)
    return (
        [(c.cause, c.probability) for c in causes.causes],
        causes.unexplained,
        flags.level,
        [f.flag for f in flags.fired],
        [f.flag for f in flags.ask_now],
    )


def _mismatches(findings: Sequence[FindingStates], kb: KnowledgeBase) -> list[int]:
    batch = assess_batch(state_matrix(findings, kb), kb)
    wrong = []
    for i, one in enumerate(findings):
        got = (
            batch.ranking(i),
            float(batch.unexplained[i]),
            batch.level[i],
            list(batch.red_flags[i]),
            list(batch.ask_now[i]),
        )
        if got != _per_case(one, kb):  # == on floats: identical to the last bit, not approximately
            wrong.append(i)
    return wrong


def test_every_example_case_gets_the_per_case_triage_and_differential(kb: KnowledgeBase) -> None:
    cases = [parse_case(p.read_bytes()) for p in sorted(EXAMPLES.glob("*.json"))]
    findings = [read_findings(c, kb) for c in cases]
    assert _mismatches(findings, kb) == []
    # and the per-case columns are those of the whole assess() (the likely emergencies included)
    batch = assess_batch(state_matrix(findings, kb), kb)
    for i, case in enumerate(cases):
        whole = assess(case, kb)
        assert [f.flag for f in whole.triage.fired] == list(batch.red_flags[i])
        assert [(c.cause, c.probability) for c in whole.differential.causes] == batch.ranking(i)


def test_a_synthetic_cohort_gets_the_per_case_results_bit_for_bit(kb: KnowledgeBase) -> None:
    findings = [read_findings(case, kb) for case, _clinic in synth_cases(SYNTHETIC, seed=11)]
    batch = assess_batch(state_matrix(findings, kb), kb)
    assert any(batch.red_flags) and any(not r for r in batch.red_flags)  # the cohort exercises both
    assert _mismatches(findings, kb) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(valid_cases(), min_size=1, max_size=6))
def test_any_valid_cases_get_the_per_case_results(cases: list[Case]) -> None:
    assert _mismatches([read_findings(c, KB) for c in cases], KB) == []


def _scrambled(base: FindingStates, rng: random.Random) -> FindingStates:
    """Every finding at random, and random studies that did not show one: states no case need produce, so that
    every branch of the arithmetic (groups of alternatives, unseen findings, exclusions) is reached."""
    states = {f: rng.choice((Presence.present, Presence.absent, Presence.unknown)) for f in base.state}
    unseen = {
        f: rng.choice((0.5, 0.8, 0.95)) for f, s in states.items() if s is not Presence.present and rng.random() < 0.2
    }
    return FindingStates(state=states, observed={}, derived=base.derived, unseen=unseen)


def test_random_finding_states_get_the_per_case_results(kb: KnowledgeBase) -> None:
    rng = random.Random(5)
    bases = [read_findings(parse_case(p.read_bytes()), kb) for p in sorted(EXAMPLES.glob("*.json"))]
    findings = [_scrambled(rng.choice(bases), rng) for _ in range(400)]
    assert _mismatches(findings, kb) == []


def test_ties_are_ranked_by_cause_id_as_one_case_is(kb: KnowledgeBase) -> None:
    case = read_findings(parse_case(sorted(EXAMPLES.glob("*.json"))[0].read_bytes()), kb)
    silent = FindingStates({f: Presence.unknown for f in case.state}, {}, case.derived, {})
    batch = assess_batch(state_matrix([silent, silent], kb), kb)
    ranking = batch.ranking(0)
    assert ranking == batch.ranking(1) == _per_case(silent, kb)[0]
    tied = [(p, cause) for cause, p in ranking]
    assert len({p for p, _ in tied}) < len(tied)  # equal priors tie ...
    assert tied == sorted(tied, key=lambda t: (-t[0], t[1]))  # ... and fall back to the id


@pytest.mark.parametrize(
    "expression",
    [
        AnyOf.model_validate({"any_of": ["fever", "sepsis_signs"]}),
        AllOf.model_validate({"all_of": ["fever", {"not": "sepsis_signs"}]}),
        Not.model_validate({"not": {"any_of": [{"all_of": ["fever", "trauma"]}, "cancer_history"]}}),
    ],
)
def test_kleene_logic_on_columns_is_the_per_case_logic(expression: AnyOf | AllOf | Not) -> None:
    values = (Presence.absent, Presence.unknown, Presence.present)
    ids = ("fever", "sepsis_signs", "trauma", "cancer_history")
    rows = [dict(zip(ids, (values[(k // 3**d) % 3] for d in range(4)), strict=True)) for k in range(3**4)]
    column = {f: j for j, f in enumerate(ids)}
    matrix = np.array([[values.index(r[f]) for f in ids] for r in rows], dtype=np.int8)
    got = compile_columns(expression, column)(matrix)
    assert [values[v] for v in got] == [evaluate_expression(expression, r) for r in rows]


def test_no_cases_give_empty_columns(kb: KnowledgeBase) -> None:
    batch = assess_batch(state_matrix([], kb), kb)
    assert batch.red_flags == () and batch.probability.shape == (0, len(kb.causes))
