"""Safety properties that hold for every valid case: a red flag never lowers the care it calls for, a 'no' never
raises an urgency, every fired flag has its work-up, and a test whose result is recorded is not ordered again."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fbss.case.model import Case, Presence
from fbss.knowledge.loader import default_knowledge
from fbss.knowledge.models import URGENCY_RANK, Urgency, flag_concept
from fbss.reasoning.appropriateness import compiled_ratings, rate
from fbss.reasoning.assess import assess
from fbss.reasoning.concepts import CareStates, care_states
from fbss.reasoning.differential import differential
from fbss.reasoning.findings import read_findings
from fbss.reasoning.triage import triage
from tests.conftest import make_case
from tests.reasoning.strategies import cases
from tests.scenarios.test_red_flags import SCENARIOS, Scenario

KB = default_knowledge()
FLAG_IDS = {f.id for f in KB.red_flags}  # the differential's emergencies (likely_...) have no definitive list
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
P, A, U = Presence.present, Presence.absent, Presence.unknown
NONE_RANK = len(URGENCY_RANK)  # nothing fired: less urgent than any level


def _rank(level: Urgency | None) -> int:
    return NONE_RANK if level is None else URGENCY_RANK[level]


def _care(case: Case) -> tuple[CareStates, tuple[str, ...]]:
    findings = read_findings(case, KB)
    flags = triage(findings, KB)
    return care_states(findings, flags, differential(findings, KB), KB), tuple(f.flag for f in flags.fired)


@SETTINGS
@given(cases())
def test_a_red_flag_never_lowers_the_rating_of_its_own_definitive_action(case: Case) -> None:
    _definitive_not_lowered(case)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.flag in FLAG_IDS], ids=lambda s: s.id)
def test_no_red_flag_vignette_lowers_the_rating_of_its_flag_s_definitive_action(scenario: Scenario) -> None:
    """Every flag, however rarely random cases reach it (an acute abdomen, a new deficit with no dates, meningitis
    after a dural tear): its vignettes hold the same property."""
    case = make_case(**scenario.case)
    assert scenario.flag in _care(case)[1]
    _definitive_not_lowered(case)


def _definitive_not_lowered(case: Case) -> None:
    care, fired = _care(case)
    _, options = compiled_ratings(KB)
    by_id = {o.id: o for o in options}
    flags = {f.id: f for f in KB.red_flags}
    for flag_id in fired:
        others = [f for f in fired if f != flag_id]
        without = dict(care.states)
        without[flag_concept(flag_id)] = A
        without["red_flag_fired"] = P if others else A
        counterfactual = replace(care, states=without)
        for option in flags[flag_id].definitive:
            with_flag = rate(by_id[option], care, KB).score
            without_flag = rate(by_id[option], counterfactual, KB).score
            assert with_flag >= without_flag, (flag_id, option, with_flag, without_flag)


# the red-flag screen's questions read straight from a presence field, so a test can answer them
SCREEN_FIELDS = sorted(q for q in KB.screen if KB.findings[q].threshold is None and KB.findings[q].one_of is None)


def _answer_no(case: Case, path: str) -> Case:
    section, name = path.split(".")
    part = getattr(case, section).model_copy(update={name: Presence.absent})
    return case.model_copy(update={section: part})


@SETTINGS
@given(cases(), st.sampled_from(SCREEN_FIELDS))
def test_answering_a_screening_question_no_never_raises_an_urgency(case: Case, question: str) -> None:
    path = KB.findings[question].field
    assert path is not None
    if getattr(getattr(case, path.split(".")[0]), path.split(".")[1]) is not Presence.unknown:
        return
    before = triage(read_findings(case, KB), KB)
    after = triage(read_findings(_answer_no(case, path), KB), KB)
    assert _rank(after.level) >= _rank(before.level)
    assert {f.flag for f in after.fired} <= {f.flag for f in before.fired}


@SETTINGS
@given(cases())
def test_recording_the_screen_negative_never_raises_an_urgency(case: Case) -> None:
    data = case.model_dump(mode="json")
    before = triage(read_findings(Case.model_validate({**data, "red_flag_screen": None}), KB), KB)
    screened = {**data, "red_flag_screen": {"by": "dr test", "at": f"{case.assessment_date}T08:00:00"}}
    after = triage(read_findings(Case.model_validate(screened), KB), KB)
    assert _rank(after.level) >= _rank(before.level)
    assert {f.flag for f in after.fired} <= {f.flag for f in before.fired}
    assert len(after.screen.open) <= len(before.screen.open)


@SETTINGS
@given(cases())
def test_no_fired_flag_has_an_empty_work_up(case: Case) -> None:
    a = assess(case, KB)
    covered = {f for t in a.workup.urgent for f in t.for_flags} | {f for r in a.workup.recorded for f in r.for_flags}
    for flag in a.triage.fired:
        assert flag.flag in covered, flag.flag


@SETTINGS
@given(cases())
def test_no_test_with_a_recorded_result_is_ordered_again(case: Case) -> None:
    a = assess(case, KB)
    care, _ = _care(case)
    recorded = {r.test for r in a.workup.recorded}
    tests = {t.id: t for t in KB.care.tests.tests}
    within = KB.care.tests.recorded_within.days
    for suggestion in a.workup.urgent:
        assert suggestion.test not in recorded
        test = tests[suggestion.test]
        if test.modality is not None and test.of_the_spine:
            days = care.study_days.get(test.modality, within + 1)
            assert days is not None and days > within, f"{test.id}: a study of this visit is in the case"
        elif test.modality is not None:  # imaging elsewhere: ordered unless a study of its kind showed its finding
            seen = [
                f
                for f in test.reveals
                if care.states[f] is P and test.modality in care.seen_on.get(str(KB.findings[f].diagnostic), ())
            ]
            assert not seen, f"{test.id}: its study showed {seen}"
        elif test.reveals:
            assert any(care.states[f] is U for f in test.reveals), f"{test.id}: every result it gives is recorded"
    for suggestion in a.workup.ranked:
        assert any(care.states[f] is U for f in tests[suggestion.test].reveals) or not tests[suggestion.test].reveals


@SETTINGS
@given(cases())
def test_a_fired_flag_puts_its_definitive_action_right_after_it_in_the_plan(case: Case) -> None:
    a = assess(case, KB)
    steps = a.plan.steps
    if not a.triage.fired:
        assert all(s.kind not in ("red_flag", "definitive") for s in steps)
        return
    assert steps[0].kind == "red_flag"
    for i, step in enumerate(steps):
        if step.kind == "definitive":
            assert steps[i - 1].kind in ("red_flag", "definitive")
    first_other = next((i for i, s in enumerate(steps) if s.kind not in ("red_flag", "definitive")), len(steps))
    assert all(s.kind not in ("red_flag", "definitive") for s in steps[first_other:])
