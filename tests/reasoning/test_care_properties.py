"""Properties that hold for every valid case: complete plan, red flags first, surgery only with a target."""

from __future__ import annotations

import pytest
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
from tests.conftest import make_case
from tests.reasoning.strategies import cases
from tests.scenarios.test_red_flags import SCENARIOS, Scenario

KB: KnowledgeBase = default_knowledge()
FLAG_IDS = {f.id for f in KB.red_flags}  # the differential's emergencies (likely_...) have no definitive list
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


NEVER_CAPPED = set(KB.care.appropriateness.red_flag_override.never_capped)


def _exempt(option_id: str, fired: set[str]) -> bool:
    """Care a flag never caps: a fired flag's definitive action, analgesia, psychological and psychiatric care."""
    option = next(t for t in KB.care.treatments if t.id == option_id)
    definitive = any(option_id in f.definitive for f in KB.red_flags if f.id in fired)
    return definitive or bool(NEVER_CAPPED & set(option.tags))


@SETTINGS
@given(cases())
def test_red_flags_preempt_elective_options_but_not_the_care_they_call_for(case: Case) -> None:
    _preempted_but_not_their_care(case)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.flag in FLAG_IDS], ids=lambda s: s.id)
def test_every_red_flag_vignette_preempts_elective_options_but_not_its_care(scenario: Scenario) -> None:
    """Every flag, including those random cases rarely reach, in its vignettes."""
    _preempted_but_not_their_care(make_case(**scenario.case))


def _preempted_but_not_their_care(case: Case) -> None:
    a = assess(case, KB)
    fired = {f.flag for f in a.triage.fired}
    capped = [r for r in a.options.options if r.elective and not _exempt(r.id, fired)]
    if a.triage.fired:
        assert all(r.label is Label.inappropriate for r in a.options.categories)
        assert all(r.label is Label.inappropriate for r in capped)
        assert a.plan.steps[0].kind == "red_flag"
        assert a.scs.advice is None
        assert a.plan.grid == ()
    elif a.triage.ask_now:
        assert all(r.label is not Label.appropriate for r in capped)
    for r in a.options.options:
        if _exempt(r.id, fired):
            assert not any(b.rule == "red_flag_override" for b in r.because), r.id


@SETTINGS
@given(cases())
def test_no_reoperation_is_appropriate_without_an_anatomic_target(case: Case) -> None:
    a = assess(case, KB)
    states = _states(case)
    reoperation = next(r for r in a.options.categories if r.id == "reoperation")
    if reoperation.label is Label.appropriate:
        assert states["spinal_surgical_target"] is Presence.present
    fired = {f.flag for f in a.triage.fired}
    for rating in a.options.options:
        if rating.category.value == "reoperation" and rating.elective and rating.label is Label.appropriate:
            if _exempt(rating.id, fired):
                # the care a fired flag calls for: its own rules read the imaging (a screw breaching at a new
                # deficit) rather than the likely cause of the chronic pain
                assert any(b.effect.startswith("set") for b in rating.because), rating.id
                continue
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
