"""Red-flag vignettes: what must fire, at what urgency, and what must be asked when the deciding item is unknown."""

from __future__ import annotations

from typing import Any

from fbss.case.model import UrgentSigns
from fbss.case.parse import parse_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from tests.conftest import make_case

ALL_CLEAR_FLAGS = {
    "bladder_bowel_change": "absent",
    "urinary_retention": "absent",
    "saddle_anaesthesia": "absent",
    "bilateral_leg_symptoms": "absent",
    "sexual_dysfunction_new": "absent",
    "meningism": "absent",
    "fever": "absent",
    "wound_drainage": "absent",
    "clear_fluid_leak": "absent",
    "weight_loss": "absent",
    "cancer_history": "absent",
    "trauma": "absent",
    "sepsis_signs": "absent",
    "immunosuppression": "absent",
    "iv_drug_use": "absent",
}
ALL_CLEAR_SIGNS = {name: "absent" for name in UrgentSigns.model_fields}


def case(**sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "t",
        "assessment_date": "2026-03-01",
        "index_surgery": {"type": "microdiscectomy", "date": "2026-02-25", "levels": ["L4-L5"]},
        "red_flags": dict(ALL_CLEAR_FLAGS),
        "urgent_signs": dict(ALL_CLEAR_SIGNS),
        "exam": {"motor_deficit_new": "absent", "motor_deficit_progressive": "absent", "wound": "healed"},
        "course": {"fall_or_injury_since_surgery": "absent"},
        "pain": {"positional_headache": "absent", "night_or_rest_pain": "absent"},
        "psychosocial": {"phq9_item9": 0},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def flags(kb: KnowledgeBase, data: dict[str, Any]) -> tuple[set[str], set[str], str | None]:
    result = assess(parse_case(data), kb).triage
    level = result.level.value if result.level else None
    return {f.flag for f in result.fired}, {f.flag for f in result.ask_now}, level


def test_quiet_case_has_no_flag_and_nothing_to_ask(kb: KnowledgeBase) -> None:
    assert flags(kb, case()) == (set(), set(), None)


def test_isolated_urinary_retention_after_microdiscectomy_is_an_emergency(kb: KnowledgeBase) -> None:
    fired, _, level = flags(kb, case(red_flags={"urinary_retention": "present"}))
    assert {"cauda_equina", "epidural_haematoma"} <= fired
    assert level == "emergency"


def test_triggers_name_what_was_found_not_the_exclusions_still_open(kb: KnowledgeBase) -> None:
    result = assess(parse_case(case(red_flags={"urinary_retention": "present"})), kb).triage
    haematoma = next(f for f in result.fired if f.flag == "epidural_haematoma")
    triggers = {t.finding for t in haematoma.fired_by}
    assert "urinary_retention" in triggers
    assert "dx_epidural_haematoma_ruled_out" not in triggers


def test_unknown_bladder_function_is_asked_now_not_ignored(kb: KnowledgeBase) -> None:
    fired, ask, _ = flags(kb, case(red_flags={"urinary_retention": "unknown"}))
    assert "cauda_equina" in ask and "cauda_equina" not in fired
    result = assess(parse_case(case(red_flags={"urinary_retention": "unknown"})), kb).triage
    question = next(f for f in result.ask_now if f.flag == "cauda_equina").ask_about
    assert [q.finding for q in question] == ["urinary_retention"]


def test_high_post_void_residual_fires_without_symptoms(kb: KnowledgeBase) -> None:
    fired, _, _ = flags(kb, case(red_flags={"post_void_residual_ml": 450}))
    assert "cauda_equina" in fired


def test_new_deficit_is_emergency_and_suspects_haematoma_early(kb: KnowledgeBase) -> None:
    fired, _, level = flags(kb, case(exam={"motor_deficit_new": "present"}))
    assert {"progressive_deficit", "epidural_haematoma"} <= fired and level == "emergency"


def test_fever_with_new_deficit_suspects_abscess(kb: KnowledgeBase) -> None:
    fired, _, _ = flags(kb, case(red_flags={"fever": "present"}, exam={"motor_deficit_progressive": "present"}))
    assert "epidural_abscess" in fired


def test_csf_leak_with_meningism(kb: KnowledgeBase) -> None:
    fired, _, level = flags(kb, case(pain={"positional_headache": "present"}, red_flags={"meningism": "present"}))
    assert "csf_leak_with_meningism" in fired and level == "emergency"


def test_raised_crp_is_read_against_the_post_operative_course(kb: KnowledgeBase) -> None:
    early = case(labs=[{"lab": "crp", "value": 80}], pain={"night_or_rest_pain": "present"})
    fired, _, _ = flags(kb, early)  # day 4: a raised CRP is expected
    assert "wound_infection_or_discitis" not in fired
    late = {**early, "assessment_date": "2026-04-20"}
    fired, _, level = flags(kb, late)  # 8 weeks: it is not
    assert "wound_infection_or_discitis" in fired and level == "same_day"


def test_misplaced_implant_right_after_instrumentation(kb: KnowledgeBase) -> None:
    data = case(
        index_surgery={"type": "fusion", "date": "2026-02-20", "levels": ["L4-L5"], "approach": "tlif"},
        course={"pain_compared_with_before": "different"},
        pain={"dermatomal": "present"},
    )
    fired, _, level = flags(kb, data)
    assert "misplaced_implant" in fired and level == "same_day"


def test_phq9_item9_above_zero_is_a_same_day_flag(kb: KnowledgeBase) -> None:
    fired, _, level = flags(kb, case(psychosocial={"phq9_item9": 1, "phq9_total": 12}))
    assert fired == {"suicidal_thoughts"} and level == "same_day"


def test_cancer_history_with_night_pain_within_days(kb: KnowledgeBase) -> None:
    fired, _, level = flags(kb, case(red_flags={"cancer_history": "present"}, pain={"night_or_rest_pain": "present"}))
    assert fired == {"possible_malignancy"} and level == "within_days"


def test_fired_flags_come_most_urgent_first(kb: KnowledgeBase) -> None:
    data = case(
        red_flags={"cancer_history": "present", "urinary_retention": "present"},
        pain={"night_or_rest_pain": "present"},
        psychosocial={"phq9_item9": 2, "phq9_total": 15},
    )
    result = assess(parse_case(data), kb).triage
    order = [f.urgency.value for f in result.fired]
    assert order == sorted(order, key=["emergency", "same_day", "within_days"].index)
    assert result.fired[0].fired_by and result.fired[0].sources


def test_a_flag_another_fired_flag_covers_is_listed_right_after_it(kb: KnowledgeBase) -> None:
    """A draining wound with fever at three weeks: the infection flag leads, the leaking wound is listed within it."""
    a = assess(
        make_case(
            assessment_date="2026-03-20",
            index_surgery={"type": "microdiscectomy", "date": "2026-03-01", "levels": ["L5-S1"], "side": "left"},
            red_flags={"fever": "present"},
            exam={"wound": "draining", "temperature_c": 38.9},
        ),
        kb,
    )
    order = [(f.flag, f.within) for f in a.triage.fired]
    assert order[:2] == [("wound_infection_or_discitis", None), ("leaking_wound", "wound_infection_or_discitis")]
