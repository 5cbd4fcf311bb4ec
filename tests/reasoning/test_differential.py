"""Differential behaviour a clinician would notice: applicability, unknowns, reasons and their sources."""

from __future__ import annotations

import math
from typing import Any

from fbss.case.parse import parse_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reasoning.results import CauseResult


def cause(kb: KnowledgeBase, data: dict[str, Any], cause_id: str) -> CauseResult | None:
    return next((c for c in assess(parse_case(data), kb).differential.causes if c.cause == cause_id), None)


BASE: dict[str, Any] = {"id": "d", "index_surgery": {"type": "microdiscectomy", "levels": ["L5-S1"]}}


def test_fusion_only_causes_do_not_apply_after_a_discectomy(kb: KnowledgeBase) -> None:
    result = assess(parse_case(BASE), kb).differential
    excluded = {e.cause: e.because for e in result.excluded}
    assert excluded["pseudarthrosis"] == ("fusion_performed",)
    assert "implant_failure" in excluded and "cage_migration_or_subsidence" in excluded


def test_unknown_fusion_details_keep_the_cause_open(kb: KnowledgeBase) -> None:
    data = {"id": "d", "index_surgery": {"type": "other"}}
    assert cause(kb, data, "implant_failure") is not None  # instrumentation unknown: not ruled out


def test_unknown_is_not_read_as_absent(kb: KnowledgeBase) -> None:
    unknown = cause(kb, BASE, "recurrent_disc_herniation")
    absent = cause(kb, {**BASE, "pain": {"dermatomal": "absent"}}, "recurrent_disc_herniation")
    assert unknown is not None and absent is not None
    assert absent.probability < unknown.probability
    assert "dermatomal" in [q.finding for q in unknown.open_questions] or unknown.high > unknown.probability


def test_missing_data_widens_the_range(kb: KnowledgeBase) -> None:
    sparse = cause(kb, BASE, "recurrent_disc_herniation")
    rich = cause(
        kb,
        {
            **BASE,
            "pain": {"dermatomal": "present", "back_share_percent": 20},
            "exam": {"straight_leg_raise": "present"},
            "course": {"relief_after_surgery": "present", "pain_free_interval_months": 9},
        },
        "recurrent_disc_herniation",
    )
    assert sparse is not None and rich is not None
    assert (sparse.high - sparse.low) > (rich.high - rich.low)


def test_reasons_carry_weights_and_sources(kb: KnowledgeBase) -> None:
    data = {
        **BASE,
        "diagnostics": [{"finding": "recurrent_disc_herniation", "modality": "mri", "level": "L5-S1"}],
    }
    result = cause(kb, data, "recurrent_disc_herniation")
    assert result is not None and result.rank == 1
    reason = result.raised_by[0]
    assert reason.finding == "dx_recurrent_disc_herniation"
    assert reason.likelihood_ratio == 15.0 and reason.sources == ("hueftle_1988",)
    assert reason.observed == "L5-S1, MRI"


def test_a_study_reported_in_full_rules_out_what_it_would_show(kb: KnowledgeBase) -> None:
    open_ = cause(kb, BASE, "spinal_stenosis")
    closed = cause(kb, {**BASE, "studies": [{"modality": "mri", "reported_in_full": True}]}, "spinal_stenosis")
    assert open_ is not None and closed is not None
    assert closed.probability < open_.probability
    assert "dx_foraminal_stenosis" in [r.finding for r in closed.lowered_by]


def test_timing_from_dates(kb: KnowledgeBase) -> None:
    data = {
        "id": "d",
        "assessment_date": "2029-06-01",
        "index_surgery": {"type": "fusion", "date": "2024-01-01", "levels": ["L4-L5"], "approach": "tlif"},
    }
    result = assess(parse_case(data), kb)
    assert 64 < (result.derived.months_since_surgery or 0) < 66
    asd = next(c for c in result.differential.causes if c.cause == "adjacent_segment_disease")
    assert "t_beyond_24_months" in [r.finding for r in asd.raised_by]


def test_prior_depends_on_the_index_surgery(kb: KnowledgeBase) -> None:
    after_discectomy = cause(kb, BASE, "recurrent_disc_herniation")
    after_fusion = cause(kb, {"id": "d", "index_surgery": {"type": "fusion"}}, "recurrent_disc_herniation")
    assert after_discectomy is not None and after_fusion is not None
    assert after_discectomy.prior > after_fusion.prior


# ---- the competing-causes model -----------------------------------------------------------------------------


def test_the_causes_and_the_unexplained_share_add_up_to_one(kb: KnowledgeBase) -> None:
    result = assess(parse_case(BASE), kb).differential
    assert math.isclose(sum(c.probability for c in result.causes) + result.unexplained, 1.0)
    assert 0.0 < result.unexplained < 0.2


def test_an_mri_that_was_done_and_did_not_show_a_recurrence_counts_against_it(kb: KnowledgeBase) -> None:
    story = {**BASE, "pain": {"dermatomal": "present"}, "course": {"pain_free_interval_months": 9}}
    before = cause(kb, story, "recurrent_disc_herniation")
    after = cause(kb, {**story, "studies": [{"modality": "mri"}]}, "recurrent_disc_herniation")
    xray = cause(kb, {**story, "studies": [{"modality": "xray"}]}, "recurrent_disc_herniation")
    assert before is not None and after is not None and xray is not None
    assert after.probability < before.probability / 2
    assert "dx_recurrent_disc_herniation" not in [r.finding for r in xray.lowered_by]  # a radiograph cannot show it
    reason = next(r for r in after.lowered_by if r.finding == "dx_recurrent_disc_herniation")
    assert reason.observed is not None and "not shown by a study" in str(reason.observed)


def test_nested_findings_count_once(kb: KnowledgeBase) -> None:
    """The DN4 contains burning pain: both present raise neuropathic root pain by the stronger of the two only."""
    dn4 = cause(kb, {**BASE, "psychosocial": {"dn4_total": 6}}, "neuropathic_root_pain")
    burning = {"pain": {"burning": "present"}}
    both = cause(kb, {**BASE, "psychosocial": {"dn4_total": 6}, **burning}, "neuropathic_root_pain")
    assert dn4 is not None and both is not None
    assert [(r.finding, r.weight) for r in both.raised_by] == [(r.finding, r.weight) for r in dn4.raised_by]
    assert [r.finding for r in both.raised_by] == ["dn4_positive"]


def test_a_finding_is_read_against_the_operated_levels(kb: KnowledgeBase) -> None:
    fusion = {
        "id": "d",
        "index_surgery": {"type": "fusion", "levels": ["L4-L5"]},
        "course": {"months_since_surgery": 60},
    }

    def leader(level: str) -> str:
        data = {**fusion, "diagnostics": [{"finding": "central_stenosis", "modality": "mri", "level": level}]}
        return assess(parse_case(data), kb).differential.causes[0].cause

    assert leader("L3-L4") == "adjacent_segment_disease"
    asd = cause(
        kb,
        {**fusion, "diagnostics": [{"finding": "central_stenosis", "modality": "mri", "level": "L3-L4"}]},
        "adjacent_segment_disease",
    )
    assert asd is not None
    assert "dx_stenosis_adjacent_level" in [r.finding for r in asd.raised_by]


def test_the_operation_selects_the_prior_and_is_not_counted_again(kb: KnowledgeBase) -> None:
    counted = {link.finding for c in kb.causes for link in c.links}
    assert not counted & {"discectomy_performed", "decompression_index", "decompression_performed"}


def test_a_cause_supported_by_findings_the_leader_does_not_explain_is_reported_as_coexisting(kb: KnowledgeBase) -> None:
    data = {
        **BASE,
        "course": {"relief_after_surgery": "present", "pain_free_interval_months": 10, "months_since_surgery": 14},
        "pain": {"dermatomal": "present", "widespread_pain": "present"},
        "diagnostics": [{"finding": "recurrent_disc_herniation", "modality": "mri", "level": "L5-S1"}],
        "psychosocial": {"phq9_total": 18, "pcs_total": 40, "psychological_distress": "present"},
        "risk_factors": {"fibromyalgia": "present"},
    }
    result = assess(parse_case(data), kb).differential
    assert result.causes[0].cause == "recurrent_disc_herniation"
    assert "psychosocial_contributors" in [c.cause for c in result.coexisting]


def test_once_one_form_of_a_lesion_is_shown_the_others_not_shown_say_nothing(kb: KnowledgeBase) -> None:
    """Central stenosis on an MRI: that the same MRI shows no foraminal stenosis does not count against stenosis."""
    shown = {**BASE, "diagnostics": [{"finding": "central_stenosis", "modality": "mri", "level": "L3-L4"}]}
    stenosis = cause(kb, {**shown, "studies": [{"modality": "mri", "reported_in_full": True}]}, "spinal_stenosis")
    assert stenosis is not None
    assert not {"dx_foraminal_stenosis", "dx_lateral_recess_stenosis"} & {r.finding for r in stenosis.lowered_by}
