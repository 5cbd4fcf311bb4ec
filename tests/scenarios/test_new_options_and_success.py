"""Options added from the source articles and guidelines, the optimisation steps that come before a revision, and the
success definition each treatment is judged by."""

from __future__ import annotations

from fbss.case.parse import read_case
from fbss.instruments.catalogue import load_instruments
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reasoning.care_results import Label
from tests.conftest import EXAMPLES, make_case

NEW = (
    "muscle_relaxant_short_course",
    "antidepressant_for_back_pain",
    "electroacupuncture",
    "interlaminar_epidural",
    "smoking_cessation",
    "bone_health_optimisation",
    "glycaemic_control",
)


def test_every_new_option_carries_its_evidence_and_a_primary_source(kb: KnowledgeBase) -> None:
    options = {t.id: t for t in kb.care.treatments}
    for option_id in NEW:
        option = options[option_id]
        cited = [s for e in option.evidence for s in e.sources]
        assert cited, option_id
        assert all(s in kb.sources for s in cited)


def test_electroacupuncture_cites_its_post_surgical_trials(kb: KnowledgeBase) -> None:
    option = next(t for t in kb.care.treatments if t.id == "electroacupuncture")
    cited = {s for e in option.evidence for s in e.sources}
    assert {"shin_2022_electroacupuncture", "heo_2018_electroacupuncture"} <= cited
    assert "7 RCTs" in " ".join(e.text for e in option.evidence)


def test_a_smoker_with_diabetes_and_a_non_union_is_optimised_before_any_revision(kb: KnowledgeBase) -> None:
    a = assess(read_case(EXAMPLES / "pseudarthrosis_after_tlif.json"), kb)
    ratings = {r.id: r for r in a.options.options}
    assert ratings["smoking_cessation"].label is Label.appropriate
    assert ratings["glycaemic_control"].label is Label.appropriate
    refs = [s.ref for s in a.plan.steps]
    first_optimisation = min(refs.index("smoking_cessation"), refs.index("glycaemic_control"))
    # the non-union is shown on CT: revision fusion is the operation, after the optimisation and an infection screen
    assert ratings["revision_fusion"].label is Label.appropriate
    revision = refs.index("revision_fusion")
    assert first_optimisation < refs.index("crp_esr_wbc") < revision
    treatments = [s.ref for s in a.plan.steps if s.kind == "treatment" and s.ref]
    assert treatments[:3] == ["smoking_cessation", "glycaemic_control", "revision_fusion"]
    cautions = " ".join(b.because for b in ratings["revision_fusion"].because if b.effect == "caution")
    assert "Smoking" in cautions and "Diabetes" in cautions
    crp = next(s for s in a.workup.not_suggested if s.test == "crp_esr_wbc")
    assert "before revision fusion" in crp.reason


def test_optimisation_steps_are_not_offered_without_their_risk_factor(kb: KnowledgeBase) -> None:
    a = assess(make_case(risk_factors={"smoking": "absent", "diabetes": "absent", "osteoporosis": "absent"}), kb)
    ratings = {r.id: r for r in a.options.options}
    for option_id in ("smoking_cessation", "glycaemic_control", "bone_health_optimisation"):
        assert ratings[option_id].label is Label.inappropriate, option_id


def test_duloxetine_for_chronic_back_pain_with_depression_stays_uncertain_beside_depression_care(
    kb: KnowledgeBase,
) -> None:
    a = assess(make_case(psychosocial={"phq9_item9": 0, "phq9_total": 12}), kb)
    ratings = {r.id: r for r in a.options.options}
    assert ratings["antidepressant_for_back_pain"].label is Label.uncertain
    assert ratings["depression_care"].label is Label.appropriate


def test_short_course_options_never_lead(kb: KnowledgeBase) -> None:
    for case in (make_case(), make_case(patient={"age": 72}), make_case(pain={"back_share_percent": 80})):
        ratings = {r.id: r for r in assess(case, kb).options.options}
        assert ratings["muscle_relaxant_short_course"].label is not Label.appropriate
        assert ratings["electroacupuncture"].label is not Label.appropriate
        assert ratings["interlaminar_epidural"].score <= ratings["tfesi"].score


def test_each_treatment_states_its_own_success_definition(kb: KnowledgeBase) -> None:
    for option in kb.care.treatments:
        text = option.success.text
        if "scs" in option.tags:
            assert "50 % relief or more" in text and "kumar_process_2007" in option.success.sources, option.id
        else:
            assert "Responder: 50 %" not in text, option.id
    nrs_judged = [t for t in kb.care.treatments if "scs" not in t.tags and "2 points or 30 %" in t.success.text]
    assert len(nrs_judged) >= 15
    assert all("ostelo_2008" in t.success.sources for t in nrs_judged)


def test_nrs_success_for_care_other_than_scs_is_the_minimal_important_change() -> None:
    catalogue = load_instruments()
    for instrument_id in ("nrs_back", "nrs_leg"):
        change = catalogue.instruments[instrument_id].change
        assert change is not None
        assert change.primary == f"{instrument_id}_mic_30"


def test_a_medial_branch_block_is_positive_at_50_percent(kb: KnowledgeBase) -> None:
    finding = kb.findings["mbb_positive"]
    assert finding.threshold is not None and finding.threshold.at_least == 50
    assert finding.threshold.sources == ("cohen_2020_facet",)


def test_the_plan_says_what_success_means_for_each_treatment_step(kb: KnowledgeBase) -> None:
    a = assess(read_case(EXAMPLES / "facet_pain_confirmed_by_medial_branch_blocks.json"), kb)
    step = next(s for s in a.plan.steps if s.ref == "medial_branch_rfa")
    assert step.decision_point is not None and "Success: Blocks: 50 % relief or more" in step.decision_point
    assert "cohen_2020_facet" in step.sources
