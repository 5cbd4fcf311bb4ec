"""SCS advice is earned: NICE's 6 months of pain despite multimodal conventional care, a settled post-operative
course, a neuropathic origin by a stated standard, the psychosocial factors assessed, a cause stimulation treats,
and each psychosocial factor counted once."""

from __future__ import annotations

from typing import Any

from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import AdviceLevel
from fbss.reasoning.assess import Assessment, assess
from tests.conftest import make_case
from tests.scenarios.test_panel_patterns import NEUROPATHIC_LEG

MRI_DONE = {"modality": "mri", "date": "2026-02-01", "contrast": "present", "reported_in_full": True}
NONE_OF_THE_EIGHT = {
    "lack_of_engagement": "absent",
    "dysfunctional_coping": "absent",
    "inadequate_daily_activity": "absent",
    "problematic_social_support": "absent",
    "secondary_gain": "absent",
    "psychological_distress": "absent",
    "unwilling_to_reduce_opioids": "absent",
    "untreated_psychiatric_illness": "absent",
    "substance_misuse": "absent",
    "able_to_operate_device": "present",
    "expectations": "realistic",
    "phq9_total": 3,
    "phq9_item9": 0,
    "gad7_total": 2,
    "pcs_total": 10,
    "dn4_total": 6,
    "startback_total": 3,
    "startback_distress": 1,
}
MULTIMODAL = [
    {"treatment": "physiotherapy", "relief_percent": 10},
    {"treatment": "neuropathic_medication", "relief_percent": 20},
    {"treatment": "pain_psychology", "relief_percent": 0},
]


def candidate(**changes: Any) -> dict[str, Any]:
    """Burning S1 leg pain 14 months after discectomy, scar only on MRI, every gate met and nothing against SCS."""
    parts: dict[str, Any] = {
        "pain": {**NEUROPATHIC_LEG["pain"], "duration_months": 12, "trend": "stable", "night_or_rest_pain": "absent"},
        "risk_factors": {"smoking": "absent", "diabetes": "absent", "osteoporosis": "absent"},
        "exam": {"sensory_change": "present"},
        "psychosocial": dict(NONE_OF_THE_EIGHT),
        "studies": [MRI_DONE],
        "diagnostics": [{"finding": "epidural_fibrosis", "modality": "mri", "level": "L5-S1"}],
        "prior_treatments": MULTIMODAL,
    }
    for key, value in changes.items():
        parts[key] = {**parts[key], **value} if isinstance(value, dict) and isinstance(parts.get(key), dict) else value
    return parts


def scs(kb: KnowledgeBase, **changes: Any) -> Assessment:
    return assess(make_case(**candidate(**changes)), kb)


def test_a_candidate_meeting_every_gate_is_recommended(kb: KnowledgeBase) -> None:
    a = scs(kb)
    assert a.scs.advice in (AdviceLevel.strongly_recommended, AdviceLevel.recommended)
    assert a.scs.held_back == ()
    assert any(s.kind == "scs" for s in a.plan.steps)


def test_unassessed_psychosocial_factors_leave_the_advice_provisional(kb: KnowledgeBase) -> None:
    parts = candidate()
    parts["psychosocial"] = {"dn4_total": 6}  # nothing else assessed
    a = assess(make_case(**parts), kb)
    assert a.scs.advice is AdviceLevel.provisional
    assert a.scs.provisional_of in (AdviceLevel.strongly_recommended, AdviceLevel.recommended)
    assert any(m.startswith("Psychosocial factors not yet assessed") for m in a.scs.missing)
    step = next(s for s in a.plan.steps if s.kind == "scs")
    assert "provisional" in step.detail


def test_nine_weeks_after_an_operation_with_improving_pain_is_not_yet(kb: KnowledgeBase) -> None:
    """The XLIF case: 9 weeks after surgery, a plexopathy still improving."""
    a = scs(
        kb,
        index_surgery={"type": "fusion", "date": "2025-12-29", "levels": ["L4-L5"], "approach": "lateral"},
        pain={"duration_months": 2, "trend": "improving"},
    )
    assert a.scs.advice is AdviceLevel.not_recommended
    assert {b.rule for b in a.scs.held_back} >= {"gate_nice_duration", "gate_settled_course"}


def test_a_single_treatment_tried_is_not_multimodal_conventional_care(kb: KnowledgeBase) -> None:
    a = scs(kb, prior_treatments=[{"treatment": "physiotherapy", "relief_percent": 10}])
    assert a.scs.advice is AdviceLevel.provisional
    duration = next(n for n in a.scs.nice if n.criterion == "nice_duration")
    assert duration.state.value == "unknown"


def test_one_neuropathic_descriptor_is_not_a_neuropathic_origin(kb: KnowledgeBase) -> None:
    a = scs(kb, psychosocial={"dn4_total": 2}, exam={"sensory_change": "absent"})
    origin = next(n for n in a.scs.nice if n.criterion == "nice_neuropathic")
    assert origin.state.value == "absent"
    assert a.scs.advice not in (AdviceLevel.strongly_recommended, AdviceLevel.recommended, AdviceLevel.provisional)


def test_donor_site_pain_is_not_a_reason_for_stimulation(kb: KnowledgeBase) -> None:
    a = assess(
        make_case(
            index_surgery={
                "type": "fusion",
                "date": "2024-06-01",
                "levels": ["L4-L5"],
                "iliac_crest_graft": "present",
            },
            pain={
                "back_share_percent": 80,
                "iliac_crest_pain": "present",
                "burning": "present",
                "duration_months": 20,
                "trend": "stable",
                "nrs_back": 7,
            },
            psychosocial=dict(NONE_OF_THE_EIGHT),
            prior_treatments=MULTIMODAL,
        ),
        kb,
    )
    assert a.differential.causes[0].cause == "donor_site_pain"
    assert any(b.rule == "scs_cause_not_treated" for b in a.scs.clinical.because)
    assert a.scs.advice in (None, AdviceLevel.not_recommended, AdviceLevel.rarely_recommended)


def test_a_pcs_of_30_counts_once_among_the_eight_factors(kb: KnowledgeBase) -> None:
    psychosocial = {**NONE_OF_THE_EIGHT, "dysfunctional_coping": "unknown", "psychological_distress": "unknown"}
    a = scs(kb, psychosocial={**psychosocial, "pcs_total": 40})
    counted = [f.factor for f in a.scs.factors if f.state.value == "present"]
    assert counted == ["dysfunctional_coping"]
