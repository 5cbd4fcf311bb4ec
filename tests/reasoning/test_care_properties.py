"""Properties that hold for every valid case: complete plan, red flags first, surgery only with a target."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from fbss.case.model import Case, Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import ADVICE_RANK
from fbss.knowledge.loader import default_knowledge
from fbss.reasoning.assess import assess
from fbss.reasoning.care_results import Label
from fbss.reasoning.concepts import care_states
from fbss.reasoning.differential import differential
from fbss.reasoning.findings import read_findings
from fbss.reasoning.scs import advice_for
from fbss.reasoning.triage import triage
from tests.reasoning.strategies import cases

KB: KnowledgeBase = default_knowledge()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _states(case: Case) -> dict[str, Presence]:
    findings = read_findings(case, KB)
    return care_states(findings, triage(findings, KB), differential(findings, KB), KB).states


@SETTINGS
@given(cases())
def test_any_valid_case_yields_a_complete_plan(case: Case) -> None:
    a = assess(case, KB)
    assert len(a.options.categories) == 4
    assert len(a.options.options) == len(KB.care.treatments)
    assert a.plan.steps, "a plan always has at least one step"
    assert a.plan.follow_up and a.plan.outcomes
    assert [s.order for s in a.plan.steps] == list(range(1, len(a.plan.steps) + 1))
    for rating in (*a.options.categories, *a.options.options, a.scs.clinical):
        assert 1 <= rating.score <= 9
        assert rating.score_basis
        for basis in rating.because:
            assert basis.because and basis.effect
    for test in (*a.workup.urgent, *a.workup.ranked):
        assert test.why
    if a.scs.advice is None:
        assert a.scs.stopped_by


@SETTINGS
@given(cases())
def test_red_flags_always_preempt_elective_options(case: Case) -> None:
    a = assess(case, KB)
    if a.triage.fired:
        assert all(r.label is Label.inappropriate for r in a.options.categories)
        assert all(r.label is Label.inappropriate for r in a.options.options if r.elective)
        assert a.plan.steps[0].kind == "red_flag"
        assert a.scs.advice is None
    elif a.triage.ask_now:
        assert all(r.label is not Label.appropriate for r in a.options.options if r.elective)


@SETTINGS
@given(cases())
def test_no_reoperation_is_appropriate_without_an_anatomic_target(case: Case) -> None:
    a = assess(case, KB)
    states = _states(case)
    reoperation = next(r for r in a.options.categories if r.id == "reoperation")
    if reoperation.label is Label.appropriate:
        assert states["spinal_surgical_target"] is Presence.present
    for rating in a.options.options:
        if rating.category.value == "reoperation" and rating.elective and rating.label is Label.appropriate:
            assert states["surgical_condition"] is Presence.present, rating.id


@SETTINGS
@given(cases())
def test_every_rating_and_test_names_its_sources(case: Case) -> None:
    a = assess(case, KB)
    for rating in (*a.options.categories, *a.options.options):
        for basis in rating.because:
            assert all(s in KB.sources for s in basis.sources)
            if basis.evidence.value != "expert_estimate":
                assert basis.sources, basis.rule
    for test in (*a.workup.urgent, *a.workup.ranked):
        if test.accuracy is not None and test.accuracy.evidence.value != "expert_estimate":
            assert test.accuracy.sources


def test_scs_advice_never_improves_with_more_psychosocial_factors() -> None:
    for label in Label:
        ranks = [ADVICE_RANK[advice_for(label, n, KB)] for n in range(9)]
        assert ranks == sorted(ranks), label
