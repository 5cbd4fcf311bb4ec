"""The patient handout is safe to hand over: exercises only when physiotherapy would be, with the cautions that
apply; only causes from the stated threshold, with their likelihood in words; the same comparison table for all; the
Spanish handout complete."""

from __future__ import annotations

import subprocess
import sys

from fbss.case.parse import read_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment, assess
from fbss.reports.documents import exercise_advice, patient_handout_html
from fbss.reports.readability import visible_text
from tests.conftest import EXAMPLES, make_case


def of(name: str, kb: KnowledgeBase) -> Assessment:
    return assess(read_case(EXAMPLES / f"{name}.json"), kb)


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
    assert a.plan.grid
    for row in a.plan.grid:
        assert row.involves in english and row.involves not in spanish
        assert row.benefit not in spanish and row.risks not in spanish
    assert "revisión clínica" in spanish
