"""The red-flag screen as one checklist (answers implied by others not asked, 'screen negative' with who and when),
and the operated region: derived from the levels, checked against them, and gating the lumbar differential."""

from __future__ import annotations

import datetime as dt

import pytest

from fbss.case.derived import derive
from fbss.case.model import SpineRegion
from fbss.case.parse import parse_case
from fbss.errors import CaseError
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reports.safety_view import safety_view
from tests.conftest import make_case


def bare(**parts: object) -> dict[str, object]:
    """A case with nothing answered, a year after an L5-S1 microdiscectomy."""
    return {
        "id": "screen",
        "assessment_date": "2026-03-01",
        "index_surgery": {"type": "microdiscectomy", "date": "2025-03-01", "levels": ["L5-S1"]},
        **parts,
    }


def open_questions(kb: KnowledgeBase, data: dict[str, object]) -> list[str]:
    return [q.finding for q in assess(parse_case(data), kb).triage.screen.open]


def test_an_unscreened_case_gets_one_checklist_not_an_alarm_per_flag(kb: KnowledgeBase) -> None:
    a = assess(parse_case(bare()), kb)
    view = safety_view(a)
    assert not a.triage.fired and a.triage.ask_now
    assert view.screen.headline == f"Red-flag screen: {len(a.triage.screen.open)} questions open"
    # one entry per question, even when several flags wait on it; emergencies first
    findings = [q.finding for q in a.triage.screen.open]
    assert len(findings) == len(set(findings))
    ranks = [q.urgency for q in a.triage.screen.open]
    assert ranks == sorted(ranks, key=["emergency", "same_day", "within_days"].index)
    cancer = next(q for q in a.triage.screen.open if q.finding == "cancer_history")
    assert {f.flag for f in cancer.flags} == {"possible_malignancy", "metastatic_cord_compression"}
    # the plan asks them in one step, not one step per flag
    assert [s.kind for s in a.plan.steps].count("screen") == 1


def test_answers_implied_by_others_are_not_asked(kb: KnowledgeBase) -> None:
    screen = assess(parse_case(bare()), kb).triage.screen
    asked = [q.finding for q in screen.open]
    assert {"wound_leak", "deficit_new_early_or_progressive", "phq9_item9_positive"} <= set(asked)
    # a plan or intent is the follow-up of thoughts of death or self-harm, asked if they are reported
    item9 = next(q for q in screen.open if q.finding == "phq9_item9_positive")
    assert [q.finding for q in item9.then_ask] == ["suicidal_plan_or_intent"]
    assert "suicide_plan_or_intent" in {f.flag for f in item9.flags} and item9.urgency.value == "emergency"
    implied = bare(exam={"wound": "healed", "motor_deficit": "absent"}, psychosocial={"phq9_item9": 0})
    asked = open_questions(kb, implied)
    # a healed wound is not leaking; no deficit cannot be new or getting worse; no thoughts of death, no plan
    assert not {
        "wound_leak",
        "deficit_new_early_or_progressive",
        "new_or_progressive_deficit",
        "suicidal_plan_or_intent",
        "phq9_item9_positive",
    } & set(asked)


def test_a_question_asked_by_a_wider_one_is_folded_into_it_and_follow_ups_wait_for_a_yes(kb: KnowledgeBase) -> None:
    early = bare(assessment_date="2025-04-15", exam={"wound": "healed"})
    screen = assess(parse_case(early), kb).triage.screen
    asked = {q.finding: q for q in screen.open}
    # "diabetes?" and "drug use, immunosuppression or a recent infection?" are inside the wider risk-factor question
    assert "sea_risk_factor" in asked and not {"diabetes", "sea_risk_strong"} & set(asked)
    assert {f.flag for f in asked["sea_risk_factor"].flags} >= {"spinal_infection_risk", "epidural_abscess"}
    # osteoporosis and steroids matter only after a fall or injury: asked if that is answered yes
    fall = asked["injury_since_surgery"]
    assert not {"trauma", "fall_or_injury", "osteoporosis", "long_term_steroids"} & set(asked)
    assert [q.finding for q in fall.then_ask] == ["osteoporosis", "long_term_steroids"]
    assert fall.text.startswith("Any fall, injury or significant trauma since the operation? If yes: Is there osteo")
    fallen = bare(assessment_date="2025-04-15", course={"fall_or_injury_since_surgery": "present"})
    asked_after = open_questions(kb, fallen)
    assert {"osteoporosis", "long_term_steroids"} <= set(asked_after)


def test_screen_negative_answers_the_screen_and_keeps_what_is_present(kb: KnowledgeBase) -> None:
    at = "2026-03-01T09:30:00"
    data = bare(red_flag_screen={"by": "dr lee", "at": at}, red_flags={"urinary_retention": "present"})
    a = assess(parse_case(data), kb)
    assert "cauda_equina" in {f.flag for f in a.triage.fired}  # recorded present still counts
    assert not any(q.screened for q in a.triage.screen.open)  # every screen question is answered
    screen = a.triage.screen
    assert screen.negative and screen.recorded_by == "dr lee"
    assert screen.recorded_at == dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    quiet = assess(parse_case(bare(red_flag_screen={"by": "dr lee", "at": at})), kb)
    assert not quiet.triage.fired and not quiet.triage.screen.open
    assert safety_view(quiet).screen.headline == "Red-flag screen negative (recorded by dr lee, 2026-03-01 09:30)"
    # with the screen answered, elective options are no longer held at "uncertain"
    assert not any(b.rule == "red_flag_override" for r in quiet.options.options for b in r.because)


def test_a_screen_recorded_at_an_earlier_visit_no_longer_counts(kb: KnowledgeBase) -> None:
    a = assess(parse_case(bare(red_flag_screen={"by": "dr lee", "at": "2026-01-10T09:00:00"})), kb)
    screen = a.triage.screen
    assert screen.stale and not screen.negative and screen.open
    assert "before this visit" not in safety_view(a).screen.headline  # the page says it in its note


def test_questions_outside_their_window_are_not_asked_but_count_when_recorded(kb: KnowledgeBase) -> None:
    late = open_questions(kb, bare())
    assert "dvt_signs" not in late and "limb_ischaemia" not in late
    early = open_questions(kb, bare(assessment_date="2025-03-10"))
    assert "dvt_signs" in early and "pe_signs" in early
    recorded = assess(parse_case(bare(urgent_signs={"dvt_signs": "present"})), kb)
    assert "deep_vein_thrombosis" in {f.flag for f in recorded.triage.fired}


def test_context_is_not_listed_among_what_fired_a_flag(kb: KnowledgeBase) -> None:
    a = assess(make_case(red_flags={"urinary_retention": "present"}), kb)
    flag = next(f for f in a.triage.fired if f.flag == "cauda_equina")
    assert [t.finding for t in flag.fired_by] == ["urinary_retention"]


# ---- the operated region ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "region"),
    [
        (["C5-C6"], SpineRegion.cervical),
        (["C7-T1"], SpineRegion.cervical),
        (["T4-T6"], SpineRegion.thoracic),
        (["T12-L1"], SpineRegion.thoracic),
        (["T10-L3"], SpineRegion.lumbar),
        (["L5-S1"], SpineRegion.lumbar),
        ([], SpineRegion.lumbar),  # an old case without levels reads as lumbar
    ],
)
def test_the_region_is_derived_from_the_levels(levels: list[str], region: SpineRegion) -> None:
    case = parse_case({"id": "r", "index_surgery": {"type": "fusion", "levels": levels}})
    assert derive(case).region is region


def test_a_given_region_must_match_the_levels() -> None:
    with pytest.raises(CaseError, match="index_surgery: region is 'cervical' but the levels L4-L5 are lumbar"):
        parse_case({"id": "r", "index_surgery": {"type": "fusion", "levels": ["L4-L5"], "region": "cervical"}})
    case = parse_case({"id": "r", "index_surgery": {"type": "fusion", "levels": ["T11-L2"], "region": "thoracic"}})
    assert derive(case).region is SpineRegion.thoracic


def test_old_case_files_load_unchanged_and_read_as_lumbar(kb: KnowledgeBase) -> None:
    case = parse_case({"id": "old", "index_surgery": {"type": "microdiscectomy"}})
    assert case.index_surgery.region is None and derive(case).region is SpineRegion.lumbar
    assert assess(case, kb).differential.causes


@pytest.mark.parametrize("levels", [["C5-C6"], ["T8-T10"]])
def test_outside_the_lumbar_spine_the_differential_says_so_instead_of_ranking(
    levels: list[str], kb: KnowledgeBase
) -> None:
    case = make_case(index_surgery={"type": "fusion", "date": "2025-01-01", "levels": levels})
    a = assess(case, kb)
    assert a.differential.causes == () and a.differential.ask_next == ()
    assert a.differential.not_ranked is not None and "lumbar" in a.differential.not_ranked
    # the red flags of the cord level are there, the lumbar ones are not
    flags = {f.id for f in kb.red_flags}
    asked = {f.flag for f in a.triage.ask_now} | {f.flag for f in a.triage.fired}
    assert "cauda_equina" not in asked and "cord_compression" in flags


def test_a_cervical_abscess_does_not_fire_cauda_equina_or_order_a_lumbar_mri(kb: KnowledgeBase) -> None:
    case = make_case(
        assessment_date="2026-03-15",
        index_surgery={"type": "fusion", "date": "2026-03-01", "levels": ["C5-C6"], "approach": "anterior"},
        red_flags={"fever": "present", "urinary_retention": "present"},
        exam={"motor_deficit": "present", "motor_deficit_new": "present"},
    )
    a = assess(case, kb)
    fired = {f.flag: f for f in a.triage.fired}
    assert "cauda_equina" not in fired and {"cord_compression", "epidural_abscess"} <= set(fired)
    assert "lumbar" not in " ".join(t.title.lower() for t in a.workup.urgent)
    assert "cervical or thoracic" in fired["cord_compression"].action


def test_every_open_screen_item_is_asked_as_a_question(kb: KnowledgeBase) -> None:
    """A checklist item with no question would print as 'None' or as an empty line under the red flags."""
    from fbss.case.parse import read_case
    from tests.conftest import EXAMPLES

    unasked = {
        (path.stem, item.finding)
        for path in sorted(EXAMPLES.glob("*.json"))
        for item in assess(read_case(path), kb).triage.screen.open
        if not item.question
    }
    assert unasked == set()
