"""Vignettes for every published panel pattern, the red-flag override, the modifiers and the SCS advice."""

from __future__ import annotations

from typing import Any

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import AdviceLevel
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.care_results import Label, Rating
from tests.conftest import make_case

MRI_DONE = {"modality": "mri", "date": "2026-02-01", "contrast": "present", "reported_in_full": True}


def category(a: Assessment, name: str) -> Rating:
    return next(r for r in a.options.categories if r.id == name)


def option(a: Assessment, name: str) -> Rating:
    return next(r for r in a.options.options if r.id == name)


# ---- Tronnier 2019: conservative care ----------------------------------------------------------------------


def test_no_clear_anatomic_abnormality_makes_conservative_care_appropriate(kb: KnowledgeBase) -> None:
    """Mechanical back pain a year after discectomy; MRI shows post-operative changes only."""
    case = make_case(
        pain={"back_share_percent": 60, "mechanical": "present", "dermatomal": "absent"},
        studies=[MRI_DONE],
        diagnostics=[{"finding": "postoperative_changes_only", "modality": "mri"}],
    )
    a = assess(case, kb)
    conservative = category(a, "conservative")
    assert conservative.label is Label.appropriate
    assert conservative.published_pattern
    assert any(b.rule == "cons_no_abnormality" and b.pattern for b in conservative.because)
    assert category(a, "reoperation").label is Label.inappropriate


def test_new_pain_different_from_the_original_makes_conservative_care_appropriate(kb: KnowledgeBase) -> None:
    """New, different back pain; no complication suspected."""
    a = assess(make_case(course={"pain_compared_with_before": "different"}, pain={"back_share_percent": 70}), kb)
    conservative = category(a, "conservative")
    assert conservative.label is Label.appropriate
    assert any(b.rule == "cons_new_different_pain" for b in conservative.because)


def test_new_different_pain_does_not_apply_while_a_complication_is_suspected(kb: KnowledgeBase) -> None:
    case = make_case(course={"pain_compared_with_before": "different"}, red_flags={"urinary_retention": "present"})
    conservative = category(assess(case, kb), "conservative")
    assert conservative.label is Label.inappropriate
    assert not any(b.rule == "cons_new_different_pain" for b in conservative.because)


# ---- Tronnier 2019: neurostimulation -----------------------------------------------------------------------

NEUROPATHIC_LEG = {
    "pain": {
        "back_share_percent": 20,
        "burning": "present",
        "allodynia": "present",
        "dermatomal": "present",
        "nrs_leg": 7,
        "nrs_back": 3,
        "duration_months": 18,
        "widespread_pain": "absent",
        "side": "left",
    },
    "psychosocial": {"dn4_total": 6, "phq9_item9": 0},
    "studies": [MRI_DONE],
    "diagnostics": [{"finding": "epidural_fibrosis", "modality": "mri", "level": "L5-S1"}],
}


def test_neuropathic_leg_pain_without_a_surgical_condition_makes_neurostimulation_appropriate(
    kb: KnowledgeBase,
) -> None:
    """Burning, allodynic S1 leg pain 14 months after discectomy; MRI shows scar only."""
    a = assess(make_case(**NEUROPATHIC_LEG), kb)
    neurostimulation = category(a, "neurostimulation")
    assert neurostimulation.label is Label.appropriate
    assert neurostimulation.published_pattern
    assert category(a, "reoperation").label is Label.inappropriate
    # nothing yet known of the psychosocial factors, the course or what was tried: provisional, assess first
    assert a.scs.advice is AdviceLevel.provisional
    assert a.scs.provisional_of in (AdviceLevel.strongly_recommended, AdviceLevel.recommended)


def test_neurostimulation_is_not_appropriate_while_a_surgical_lesion_is_present(kb: KnowledgeBase) -> None:
    case = make_case(
        **{
            **NEUROPATHIC_LEG,
            "diagnostics": [{"finding": "recurrent_disc_herniation", "modality": "mri", "level": "L5-S1"}],
        }
    )
    a = assess(case, kb)
    assert category(a, "neurostimulation").label is not Label.appropriate
    assert a.scs.advice is None
    assert any(b.rule == "scs_fixable_lesion" for b in a.scs.stopped_by)


# ---- Tronnier 2019: re-operation ---------------------------------------------------------------------------


RECURRENT_DISC: dict[str, Any] = {
    "course": {"pain_free_interval_months": 9},
    "pain": {"back_share_percent": 20, "dermatomal": "present"},
    "exam": {"straight_leg_raise": "present"},
    "studies": [MRI_DONE],
    "diagnostics": [{"finding": "recurrent_disc_herniation", "modality": "mri", "level": "L5-S1"}],
}
TRIED_PHYSIOTHERAPY = [{"treatment": "physiotherapy", "relief_percent": 10}]


def test_recurrent_disc_makes_reoperation_worth_considering(kb: KnowledgeBase) -> None:
    """Leg pain returns after 9 pain-free months; MRI shows a recurrent L5-S1 disc; no deficit, nothing tried yet:
    the panel said re-operation "could be considered" (uncertain), and the history of what was tried could settle it."""
    a = assess(make_case(**RECURRENT_DISC), kb)
    reoperation = category(a, "reoperation")
    assert reoperation.label is Label.uncertain and reoperation.published_pattern
    discectomy = option(a, "revision_discectomy")
    assert discectomy.label is Label.uncertain
    assert any(p.rule == "mod_failed_conservative_options" for p in discectomy.pending)


def test_recurrent_disc_after_failed_conservative_care_makes_reoperation_appropriate(kb: KnowledgeBase) -> None:
    a = assess(make_case(**RECURRENT_DISC, prior_treatments=TRIED_PHYSIOTHERAPY), kb)
    assert category(a, "reoperation").label is Label.appropriate
    assert option(a, "revision_discectomy").label is Label.appropriate


def test_recurrent_disc_concordant_with_a_motor_deficit_makes_reoperation_appropriate(kb: KnowledgeBase) -> None:
    weak = {**RECURRENT_DISC, "exam": {"straight_leg_raise": "present", "motor_deficit": "present"}}
    a = assess(make_case(**weak), kb)
    assert category(a, "reoperation").label is Label.appropriate
    assert option(a, "revision_discectomy").label is Label.appropriate


def test_stenosis_makes_reoperation_appropriate(kb: KnowledgeBase) -> None:
    case = make_case(
        index_surgery={"type": "laminectomy", "date": "2023-01-01", "levels": ["L4-L5"]},
        pain={"back_share_percent": 30, "neurogenic_claudication": "present", "dermatomal": "present"},
        studies=[MRI_DONE],
        diagnostics=[{"finding": "foraminal_stenosis", "modality": "mri", "level": "L4-L5"}],
        prior_treatments=TRIED_PHYSIOTHERAPY,
    )
    a = assess(case, kb)
    assert category(a, "reoperation").label is Label.appropriate
    assert option(a, "open_decompression").label is Label.appropriate


def test_instability_makes_reoperation_appropriate(kb: KnowledgeBase) -> None:
    case = make_case(
        index_surgery={"type": "laminectomy", "date": "2023-01-01", "levels": ["L4-L5"]},
        pain={"back_share_percent": 70, "mechanical": "present"},
        studies=[{"modality": "flexion_extension_xray", "date": "2026-02-01", "reported_in_full": True}],
        diagnostics=[{"finding": "dynamic_instability", "modality": "flexion_extension_xray", "level": "L4-L5"}],
        prior_treatments=TRIED_PHYSIOTHERAPY,
    )
    a = assess(case, kb)
    assert category(a, "reoperation").label is Label.appropriate
    assert option(a, "mi_fusion").label is Label.appropriate
    untried = assess(case.model_copy(update={"prior_treatments": []}), kb)
    assert category(untried, "reoperation").label is Label.uncertain


def test_reoperation_without_an_anatomic_target_is_inappropriate(kb: KnowledgeBase) -> None:
    case = make_case(
        pain={"back_share_percent": 60},
        studies=[MRI_DONE],
        diagnostics=[{"finding": "epidural_fibrosis", "modality": "mri", "level": "L5-S1"}],
    )
    a = assess(case, kb)
    assert category(a, "reoperation").label is Label.inappropriate
    assert all(r.label is not Label.appropriate for r in a.options.options if r.category.value == "reoperation")


# ---- red flags pre-empt elective care ----------------------------------------------------------------------


def test_a_red_flag_caps_elective_options_but_not_the_care_it_calls_for(kb: KnowledgeBase) -> None:
    """Urinary retention after discectomy: suspected cauda equina (GIRFT 2023). Elective care waits; the
    decompression it calls for, pain relief and psychological care are rated on their own merits."""
    a = assess(make_case(red_flags={"urinary_retention": "present"}), kb)
    # the elective categories wait; re-operation is rated with the decompression the flag calls for (pending the MRI)
    assert all(r.label is Label.inappropriate for r in a.options.categories if r.id != "reoperation")
    assert category(a, "reoperation").label is Label.uncertain
    never_capped = set(kb.care.appropriateness.red_flag_override.never_capped)
    exempt = {"emergency_decompression"} | {t.id for t in kb.care.treatments if set(t.tags) & never_capped}
    assert {"analgesics_nociceptive", "neuropathic_medication", "pain_psychology", "depression_care"} <= exempt
    assert all(r.label is Label.inappropriate for r in a.options.options if r.elective and r.id not in exempt)
    assert not any(b.rule == "red_flag_override" for r in a.options.options if r.id in exempt for b in r.because)
    assert [s.kind for s in a.plan.steps[:2]] == ["red_flag", "definitive"]
    assert a.plan.steps[1].ref == "emergency_decompression"
    assert [t.test for t in a.workup.urgent] == ["bladder_scan", "mri_plain"]
    assert a.workup.ranked == ()


def test_urgent_imaging_switches_to_ct_myelography_when_mri_is_contraindicated(kb: KnowledgeBase) -> None:
    case = make_case(
        red_flags={"urinary_retention": "present"},
        patient={"devices": [{"kind": "pacemaker", "mri_conditional": "absent"}]},
    )
    urgent = assess(case, kb).workup.urgent
    myelogram = next(t for t in urgent if t.test == "ct_myelography")
    assert myelogram.replaces == "mri_plain"


def test_a_red_flag_in_the_first_month_skips_the_timing_rule(kb: KnowledgeBase) -> None:
    """New weakness 9 days after surgery: haematoma; urgent MRI although early images are hard to read."""
    a = assess(make_case(assessment_date="2025-01-10", exam={"motor_deficit_new": "present"}), kb)
    assert "epidural_haematoma" in [f.flag for f in a.triage.fired]
    assert "mri_gadolinium" in [t.test for t in a.workup.urgent]


def test_mri_in_the_first_month_is_deferred_without_a_red_flag(kb: KnowledgeBase) -> None:
    a = assess(make_case(assessment_date="2025-01-15", pain={"back_share_percent": 20, "dermatomal": "present"}), kb)
    deferred = {d.test: d for d in a.workup.deferred}
    assert "mri_gadolinium" in deferred
    assert deferred["mri_gadolinium"].earliest_months == 1
    assert "first month" in deferred["mri_gadolinium"].reason


def test_gadolinium_is_avoided_in_severe_renal_failure(kb: KnowledgeBase) -> None:
    a = assess(make_case(patient={"egfr": 20}, pain={"back_share_percent": 20, "dermatomal": "present"}), kb)
    assert "mri_gadolinium" in [s.test for s in a.workup.not_suggested if s.kind == "contraindicated"]
    assert "mri_gadolinium" not in [t.test for t in a.workup.ranked]


def test_crp_is_read_against_its_post_operative_course(kb: KnowledgeBase) -> None:
    a = assess(make_case(red_flags={"fever": "present"}, exam={"wound": "draining"}), kb)
    crp = next(t for t in a.workup.urgent if t.test == "crp_esr_wbc")
    assert any("peaks on day 2-3" in c.text for c in crp.cautions)


# ---- modifiers ---------------------------------------------------------------------------------------------

INSTABILITY = {
    "index_surgery": {"type": "laminectomy", "date": "2023-01-01", "levels": ["L4-L5"]},
    "pain": {"back_share_percent": 70, "mechanical": "present"},
    "studies": [{"modality": "flexion_extension_xray", "date": "2026-02-01", "reported_in_full": True}],
    "diagnostics": [{"finding": "dynamic_instability", "modality": "flexion_extension_xray", "level": "L4-L5"}],
}


def test_smoking_diabetes_and_osteoporosis_are_corrected_before_fusion_not_counted_against_it(
    kb: KnowledgeBase,
) -> None:
    clean = option(assess(make_case(**INSTABILITY), kb), "mi_fusion")
    risky = option(
        assess(
            make_case(
                **INSTABILITY,
                risk_factors={"smoking": "present", "diabetes": "present", "osteoporosis": "present"},
            ),
            kb,
        ),
        "mi_fusion",
    )
    assert risky.score == clean.score
    cautions = {b.rule for b in risky.because if b.effect == "caution"}
    assert {"caution_smoking_fusion", "caution_diabetes_surgery", "caution_osteoporosis_fusion"} <= cautions


def test_each_previous_operation_counts_against_reoperation(kb: KnowledgeBase) -> None:
    one = category(assess(make_case(**INSTABILITY), kb), "reoperation")
    three = category(assess(make_case(**INSTABILITY, total_spine_operations=3), kb), "reoperation")
    assert three.score == one.score - 2
    assert any("norspine_reoperation_2023" in b.sources for b in three.because)


def test_failed_conservative_care_and_preference_move_the_ratings(kb: KnowledgeBase) -> None:
    base = make_case(**NEUROPATHIC_LEG)
    tried = make_case(**NEUROPATHIC_LEG, prior_treatments=[{"treatment": "physiotherapy", "relief_percent": 10}])
    declined = make_case(**NEUROPATHIC_LEG, planning={"declines_implanted_device": "present"})
    assert category(assess(tried, kb), "neurostimulation").score >= category(assess(base, kb), "neurostimulation").score
    assert (
        category(assess(declined, kb), "neurostimulation").score < category(assess(base, kb), "neurostimulation").score
    )


# ---- SCS ---------------------------------------------------------------------------------------------------

FACTORS = [
    "lack_of_engagement",
    "dysfunctional_coping",
    "inadequate_daily_activity",
    "problematic_social_support",
    "secondary_gain",
    "psychological_distress",
    "unwilling_to_reduce_opioids",
]


def test_scs_advice_drops_as_psychosocial_factors_accumulate(kb: KnowledgeBase) -> None:
    from fbss.knowledge.care_models import ADVICE_RANK

    ranks = []
    for n in range(len(FACTORS) + 1):
        present = {f: ("present" if i < n else "absent") for i, f in enumerate(FACTORS)}
        case = make_case(**{**NEUROPATHIC_LEG, "psychosocial": {**NEUROPATHIC_LEG["psychosocial"], **present}})
        a = assess(case, kb)
        assert a.scs.advice is not None
        ranks.append(ADVICE_RANK[a.scs.advice])
    assert ranks == sorted(ranks)
    assert ranks[0] < ranks[-1]


def test_scs_contraindications_stop_the_advice(kb: KnowledgeBase) -> None:
    for extra in (
        {"patient": {"pregnant": "present"}},
        {"psychosocial": {"substance_misuse": "present"}},
        {"patient": {"anticoagulant": "present", "anticoagulant_can_pause": "absent"}},
        {"psychosocial": {"able_to_operate_device": "absent"}},
    ):
        case = make_case(**NEUROPATHIC_LEG)
        case = make_case(**{**NEUROPATHIC_LEG, **{k: {**NEUROPATHIC_LEG.get(k, {}), **v} for k, v in extra.items()}})
        advice = assess(case, kb).scs
        assert advice.advice is None, extra
        assert advice.stopped_by


def test_future_mri_restricts_the_system_to_mri_conditional(kb: KnowledgeBase) -> None:
    advice = assess(make_case(**NEUROPATHIC_LEG, planning={"future_mri_likely": "present"}), kb).scs
    assert advice.advice is not None
    assert any("MRI-conditional" in c.because for c in advice.conditions)


def test_nice_ta159_maps_the_nrs_to_the_vas_and_says_what_is_missing(kb: KnowledgeBase) -> None:
    a = assess(make_case(**NEUROPATHIC_LEG), kb)
    nice = {n.criterion: n for n in a.scs.nice}
    assert nice["nice_neuropathic"].state is Presence.present
    assert nice["nice_intensity"].state is Presence.present  # leg NRS 7 -> 70 mm
    assert "1 point = 10 mm" in nice["nice_intensity"].how
    assert nice["nice_mdt"].state is Presence.unknown and nice["nice_mdt"].missing
    weak = make_case(**{**NEUROPATHIC_LEG, "pain": {**NEUROPATHIC_LEG["pain"], "nrs_leg": 4, "nrs_back": 2}})
    assert {n.criterion: n for n in assess(weak, kb).scs.nice}["nice_intensity"].state is Presence.absent
