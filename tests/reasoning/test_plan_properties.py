"""Properties of every plan: a likely cause always has a next action; a red flag aside, no operation is appropriate
without a target it treats; SCS is never recommended with the psychosocial factors unassessed or before NICE's 6 months
of pain despite multimodal conventional care, or before the post-operative course has settled."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from fbss.case.model import Case, Presence
from fbss.knowledge.care_models import AdviceLevel, PanelCategory
from fbss.knowledge.loader import default_knowledge
from fbss.reasoning.appropriateness import appropriateness
from fbss.reasoning.assess import assess
from fbss.reasoning.care_results import Label
from fbss.reasoning.concepts import care_states
from fbss.reasoning.differential import differential
from fbss.reasoning.findings import read_findings
from fbss.reasoning.triage import triage
from tests.strategies import valid_cases

KB = default_knowledge()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATHS = {p.cause: p for p in KB.care.plan.cause_paths}
OPTIONS = {t.id: t for t in KB.care.treatments}
P = Presence.present


@SETTINGS
@given(valid_cases())
def test_a_plan_for_a_likely_cause_always_has_a_next_action_for_it(case: Case) -> None:
    a = assess(case, KB)
    if a.triage.fired:  # the red flag's action comes first, and its definitive care right after it
        assert a.plan.steps[0].kind == "red_flag"
        return
    refs = {s.ref for s in a.plan.steps}
    has_scs_step = any(s.kind == "scs" for s in a.plan.steps)
    likely = KB.care.appropriateness.scale.likely
    for cause in a.differential.causes:
        if cause.probability < likely:
            continue
        path = PATHS[cause.cause]
        acted = cause.cause in refs or any(
            o in refs
            or (has_scs_step and "scs" in OPTIONS[o].tags)
            or any(o in OPTIONS[r].includes for r in refs if r in OPTIONS)
            for o in path.options
        )
        assert acted, f"no next action for {cause.cause}"


@SETTINGS
@given(valid_cases())
def test_a_red_flag_aside_no_operation_is_appropriate_without_a_target(case: Case) -> None:
    findings = read_findings(case, KB)
    flags = triage(findings, KB)
    if flags.fired:
        return
    care = care_states(findings, flags, differential(findings, KB), KB)
    target = care.states["spinal_surgical_target"] is P or care.states["target_sij"] is P
    ratings = appropriateness(care, KB)
    operations = [r for r in ratings.options if r.category is PanelCategory.reoperation and r.elective]
    if not target:
        assert all(r.label is not Label.appropriate for r in operations)
        category = next(r for r in ratings.categories if r.id == "reoperation")
        assert category.label is not Label.appropriate


@SETTINGS
@given(valid_cases())
def test_scs_is_never_recommended_unassessed_or_too_early(case: Case) -> None:
    findings = read_findings(case, KB)
    flags = triage(findings, KB)
    care = care_states(findings, flags, differential(findings, KB), KB)
    scs = assess(case, KB).scs
    if scs.advice in (AdviceLevel.strongly_recommended, AdviceLevel.recommended):
        assert scs.factors_unknown == 0
        for gate in ("pain_6_months", "multimodal_care_failed", "settled_course", "neuropathic_origin"):
            assert care.states[gate] is P, gate
    if care.states["pain_6_months"] is Presence.absent or care.states["settled_course"] is Presence.absent:
        assert scs.advice in (None, AdviceLevel.not_recommended)
