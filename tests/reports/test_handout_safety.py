"""The patient handout is safe to hand over: exercises only when physiotherapy would be, with the cautions that
apply; only causes from the stated threshold, with their likelihood in words; the same comparison table for all; the
Spanish handout complete."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from fbss.case.parse import read_case
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import URGENCY_RANK
from fbss.reasoning.assess import Assessment, assess
from fbss.reports.documents import (
    exercise_advice,
    handout_exercises,
    handout_options,
    handout_referrals,
    patient_handout_html,
)
from fbss.reports.readability import visible_text
from tests.conftest import EXAMPLES, make_case


def of(name: str, kb: KnowledgeBase) -> Assessment:
    return assess(read_case(EXAMPLES / f"{name}.json"), kb)


EXAMPLE_NAMES = sorted(p.stem for p in Path(EXAMPLES).glob("*.json"))


@cache
def _handout(name: str, kb: KnowledgeBase) -> tuple[Assessment, str]:
    a = of(name, kb)
    return a, " ".join(visible_text(patient_handout_html(a, kb)).split())


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_no_exercise_sheet_with_a_non_union_or_suspected_instability(kb: KnowledgeBase) -> None:
    for name in ("pseudarthrosis_after_tlif", "iatrogenic_instability_after_laminectomy"):
        safe, _ = exercise_advice(of(name, kb), kb)
        assert not safe, name
        html = patient_handout_html(of(name, kb), kb)
        assert kb.education is not None and kb.education.exercises.title not in visible_text(html)


def test_no_exercise_sheet_in_the_first_three_months_after_a_fusion(kb: KnowledgeBase) -> None:
    a = assess(
        make_case(
            index_surgery={"type": "fusion", "date": "2025-12-29", "levels": ["L4-L5"], "instrumented": "present"},
            pain={"back_share_percent": 70, "mechanical": "present", "nrs_back": 5},
        ),
        kb,
    )
    assert not exercise_advice(a, kb)[0]


def test_the_exercise_sheet_carries_the_fusion_and_leg_pain_cautions(kb: KnowledgeBase) -> None:
    a = of("sij_pain_after_l4_s1_fusion", kb)
    safe, cautions = exercise_advice(a, kb)
    assert safe
    assert any("After a fusion" in c for c in cautions)
    b = of("battered_root_neuropathic_pain_after_discectomy", kb)
    safe, cautions = exercise_advice(b, kb)
    assert safe and any("leg pain" in c for c in cautions)
    assert cautions[0] in visible_text(patient_handout_html(b, kb))


def test_only_causes_from_the_threshold_with_their_likelihood_in_words(kb: KnowledgeBase) -> None:
    assert kb.education is not None
    threshold = kb.education.causes.shown_from
    a = of("unchanged_pain_after_technically_good_decompression", kb)
    text = " ".join(visible_text(patient_handout_html(a, kb)).split())
    for cause in a.differential.causes:
        shown = f"{cause.title} (" in text
        assert shown == (cause.probability >= threshold and cause in a.differential.causes[:3]), cause.cause
    leader = of("pseudarthrosis_after_tlif", kb)
    assert "(non-union) (very likely)" in " ".join(visible_text(patient_handout_html(leader, kb)).split())


def test_the_comparison_table_is_the_same_for_every_patient(kb: KnowledgeBase) -> None:
    assert kb.education is not None
    families = [f.name for f in kb.education.comparison.families]
    for name in ("pseudarthrosis_after_tlif", "myofascial_pain_after_laminectomy"):
        text = visible_text(patient_handout_html(of(name, kb), kb))
        assert all(f in text for f in families)
    run = subprocess.run(
        [sys.executable, "-m", "fbss.cli", "knowledge", "compare"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert all(f.split(" ")[0] in run.stdout for f in families)


def test_the_spanish_handout_translates_the_options_and_is_marked_for_review(kb: KnowledgeBase) -> None:
    a = of("recurrent_herniation_after_discectomy", kb)
    english = visible_text(patient_handout_html(a, kb))
    spanish = visible_text(patient_handout_html(a, kb, lang="es"))
    options = handout_options(a, kb)
    assert options
    for option in options:
        assert option["involves"] in english and option["involves"] not in spanish
        assert option["benefit"] not in spanish and option["risks"] not in spanish
    assert "revisión clínica" in spanish


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_handout_is_safe_for_its_case(name: str, kb: KnowledgeBase) -> None:
    """Properties that hold for every example: no exercise sheet with a red flag or where physiotherapy is held back,
    no twisting after a fusion, no straight-leg raise with leg pain, no option outside the plan or a likely cause, no
    SCS unless recommended outright, no generic treatment table in an emergency, no fusion to redo without one."""
    assert kb.education is not None
    education = kb.education
    a, text = _handout(name, kb)
    names = {e.name for e in handout_exercises(a, kb)}
    safe, _ = exercise_advice(a, kb)
    physio = next(r for r in a.options.options if r.id == "physiotherapy_exercise")
    holding = {b.rule for b in physio.because if b.effect == "caution"}
    if a.triage.fired or not safe:
        assert not names and education.exercises.title not in text
    if "pt_caution_fusion" in holding or a.derived.fusion_performed.value == "present":
        assert "Knee rolls" not in text
    if "pt_caution_sciatica" in holding:
        assert "Single-leg raises" not in text
    if names:
        assert "Walking" in names and text.index("Walking") < text.index("Bridges")
    options = {t.id: t for t in kb.care.treatments}
    in_plan = {s.ref for s in a.plan.steps if s.ref}
    likely = {c.cause for c in a.differential.causes if c.probability >= kb.care.appropriateness.scale.likely}
    rated = {r.id: r for r in a.options.options}
    for row in a.plan.grid:
        shown = f"{row.title} What it is:" in text
        if not shown:
            continue
        assert rated[row.option].label.value != "inappropriate"
        if "scs" in options[row.option].tags:
            assert a.scs.advice is not None and a.scs.advice.value in ("recommended", "strongly_recommended")
            assert a.scs.nice_met.value == "present"
        else:
            assert row.option in in_plan or likely & set(options[row.option].treats), row.option
    if a.triage.fired:
        assert "Treatments you can talk about" not in text
        assert _flat(education.comparison.title) not in text
        urgency = min((f.urgency for f in a.triage.fired), key=URGENCY_RANK.__getitem__)
        assert _flat(education.act_on_flag[urgency]) in text
    else:
        assert _flat(education.comparison.title) in text
        for referral in handout_referrals(a):
            assert referral in text
    if a.derived.fusion_performed.value != "present":
        assert "redo a fusion" not in text and "the fusion failing again" not in text
    assert "about 8 in 10 had at least half the back and leg pain relief" not in text
    spanish = _flat(visible_text(patient_handout_html(a, kb, lang="es")))
    assert "revisión clínica" in spanish
    assert _flat(education.next_steps_default) not in spanish and _flat(education.urgent_help.action) not in spanish


def test_after_a_fusion_no_knee_rolls_and_the_fusion_caution(kb: KnowledgeBase) -> None:
    _, text = _handout("adjacent_segment_stenosis_above_l4_5_fusion", kb)
    assert "Gentle exercises for your back" in text and "Bridges" in text
    assert "Knee rolls" not in text
    assert "twist the back, such as knee rolls, are left out" in text
    asked = visible_text(patient_handout_html(of("flatback_after_long_fusion", kb), kb, show_exercises=True))
    assert "Bridges" in asked and "Knee rolls" not in asked
    _, unfused = _handout("myofascial_pain_after_laminectomy", kb)
    assert "Knee rolls" in unfused and "Single-leg raises" in unfused


def test_with_sciatica_no_straight_leg_raises_and_the_sciatica_caution(kb: KnowledgeBase) -> None:
    _, text = _handout("battered_root_neuropathic_pain_after_discectomy", kb)
    assert "Gentle exercises for your back" in text
    assert "Single-leg raises" not in text
    assert "Leg raises with a straight leg are left out" in text


def test_no_exercises_with_instability_a_loose_non_union_early_fusion_or_a_red_flag(kb: KnowledgeBase) -> None:
    for name in ("iatrogenic_instability_after_laminectomy", "pseudarthrosis_after_tlif"):
        _, text = _handout(name, kb)
        assert "Gentle exercises for your back" not in text and "Bridges" not in text
        assert "Keeping active for now" in text and "do not have your back manipulated" in text
    _, early = _handout("anterior_thigh_pain_after_xlif", kb)
    assert "Bridges" not in early
    _, urgent = _handout("cauda_equina_retention_day2_after_microdiscectomy", kb)
    assert "Bridges" not in urgent and "Keeping active for now" not in urgent


def test_only_options_in_the_plan_and_the_referral_it_makes(kb: KnowledgeBase) -> None:
    _, xlif = _handout("anterior_thigh_pain_after_xlif", kb)
    assert "Spinal cord stimulation, 10 kHz" not in xlif and "Spinal cord stimulation, conventional" not in xlif
    assert "Transforaminal" not in xlif
    a, hip = _handout("hip_osteoarthritis_mimicking_radiculopathy_after_decompression", kb)
    assert "Transforaminal epidural steroid injection" not in hip
    assert "Refer to an orthopaedic hip specialist" in handout_referrals(a)
    assert hip.index("Your care team plans to arrange") < hip.index("Refer to an orthopaedic hip specialist")
    assert hip.index("What happens next") < hip.index("Refer to an orthopaedic hip specialist")


def test_an_emergency_handout_says_what_happens_now_without_the_treatment_table(kb: KnowledgeBase) -> None:
    for name in ("bowel_injury_four_days_after_olif", "neck_haematoma_evening_after_acdf"):
        a, text = _handout(name, kb)
        assert a.triage.fired
        assert "Please act on this now" in text
        assert "needs to be checked and treated" in text
        assert "The main kinds of treatment compared" not in text
        assert "Spinal cord stimulation" not in text and "Implant surgery" not in text


def test_no_fusion_to_redo_for_a_patient_who_never_had_one(kb: KnowledgeBase) -> None:
    a, text = _handout("iatrogenic_instability_after_laminectomy", kb)
    assert a.derived.fusion_performed.value != "present"
    assert "Revision fusion or re-stabilisation" in text
    assert "redo a fusion" not in text and "fix the loose or unstable part of the spine" in text
    assert "the fusion failing again" not in text
    _, fused = _handout("pseudarthrosis_after_tlif", kb)
    assert "redo a fusion that has not healed" in fused


def test_both_kinds_of_scs_are_described_on_the_same_basis(kb: KnowledgeBase) -> None:
    assert kb.education is not None
    wording = {w.option: w for w in kb.education.option_wording}
    ten, conventional = wording["scs_10khz"], wording["scs_conventional"]
    assert ten.sources == conventional.sources == ("kapural_senza_2015",)
    for w in (ten, conventional):
        assert w.benefit is not None and "among people who had the implant" in w.benefit
        assert "about 8 in 10" in w.benefit and "about 4 in 10" in w.benefit


def test_the_spanish_handout_translates_the_new_texts(kb: KnowledgeBase) -> None:
    markers = (
        "are left out for this reason",
        "needs to be checked and treated",
        "Keeping active for now",
        "Your care team plans to arrange",
        "fix the loose or unstable",
    )
    for name in (
        "adjacent_segment_stenosis_above_l4_5_fusion",
        "bowel_injury_four_days_after_olif",
        "iatrogenic_instability_after_laminectomy",
        "hip_osteoarthritis_mimicking_radiculopathy_after_decompression",
    ):
        spanish = _flat(visible_text(patient_handout_html(of(name, kb), kb, lang="es")))
        _, english = _handout(name, kb)
        present = [m for m in markers if m in english]
        assert present, name
        assert not [m for m in present if m in spanish], name
        assert "revisión clínica" in spanish
