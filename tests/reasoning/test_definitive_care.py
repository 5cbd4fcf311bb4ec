"""The care a fired flag calls for: one operation listed once, its cautions shown with it, urgent tests that say what
their result decides, and imaging outside the spine that counts as done only when it showed the lesion."""

from __future__ import annotations

from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment, assess
from fbss.reports.markdown import red_flags_markdown
from tests.conftest import make_case

DAY1 = {
    "assessment_date": "2026-03-02",
    "index_surgery": {"type": "laminectomy", "date": "2026-03-01", "levels": ["L3-L5"]},
}
DEFICIT = {
    "exam": {"motor_deficit": "present", "motor_deficit_new": "present"},
    "red_flags": {"urinary_retention": "present"},
}


def head(a: Assessment) -> list[tuple[str, str | None]]:
    """The plan's first steps: each flag's action and the treatments right after it."""
    out = []
    for step in a.plan.steps:
        if step.kind not in ("red_flag", "definitive"):
            break
        out.append((step.kind, step.ref))
    return out


def test_an_evacuation_that_is_the_decompression_is_listed_once_when_the_haematoma_is_shown(
    kb: KnowledgeBase,
) -> None:
    shown = make_case(
        **DAY1,
        **DEFICIT,
        diagnostics=[{"finding": "epidural_haematoma", "modality": "mri", "level": "L3-L4", "date": "2026-03-02"}],
    )
    a = assess(shown, kb)
    treatments = [ref for kind, ref in head(a) if kind == "definitive"]
    assert treatments == ["haematoma_evacuation"]
    step = next(s for s in a.plan.steps if s.ref == "haematoma_evacuation")
    assert "also the emergency decompression" in step.detail
    # every flag that called for the decompression names the evacuation instead
    by_flag = {d.flag: d.options for d in a.plan.definitive}
    assert by_flag["cauda_equina"] == ("haematoma_evacuation",)
    assert by_flag["epidural_haematoma"] == ("haematoma_evacuation",)


def test_while_the_lesion_is_only_suspected_both_operations_stay_open(kb: KnowledgeBase) -> None:
    a = assess(make_case(**DAY1, **DEFICIT), kb)
    treatments = {ref for kind, ref in head(a) if kind == "definitive"}
    assert {"haematoma_evacuation", "emergency_decompression"} <= treatments


def test_an_urgent_test_says_what_its_result_decides_for_the_flag(kb: KnowledgeBase) -> None:
    a = assess(
        make_case(
            red_flags={"fever": "present"},
            pain={"night_or_rest_pain": "present"},
            urgent_signs={"recent_bacteraemia": "present"},
        ),
        kb,
    )
    mri = next(t for t in a.workup.urgent if t.test == "mri_gadolinium")
    assert mri.decision_point is not None and mri.decision_point.startswith("An abscess, discitis")
    elective = assess(make_case(), kb)
    assert all(
        t.decision_point is None or not t.decision_point.startswith("An abscess") for t in elective.workup.ranked
    )


def test_a_caution_of_a_definitive_treatment_is_shown_with_it(kb: KnowledgeBase) -> None:
    a = assess(
        make_case(
            assessment_date="2026-03-10",
            index_surgery={"type": "laminectomy", "date": "2026-03-01", "levels": ["L4-L5"]},
            pain={"positional_headache": "present"},
            red_flags={"clear_fluid_leak": "present", "meningism": "present"},
        ),
        kb,
    )
    assert "csf_leak_with_meningism" in {f.flag for f in a.triage.fired}
    step = next(s for s in a.plan.steps if s.ref == "dural_repair")
    assert step.detail.count("Caution:") == 1 and "no epidural blood patch" in step.detail
    assert "no epidural blood patch" in "\n".join(red_flags_markdown(a, kb))


def test_a_spine_ct_does_not_stand_in_for_a_ct_angiogram(kb: KnowledgeBase) -> None:
    mass = {"exam": {"pulsatile_abdominal_mass": "present"}, "studies": [{"modality": "ct", "date": "2026-03-01"}]}
    a = assess(make_case(**mass), kb)
    assert "ct_angiography" in {t.test for t in a.workup.urgent}
    # an aneurysm seen on ultrasound still needs its CT angiogram; seen on CT, the angiogram is done
    on_us = assess(
        make_case(**mass, diagnostics=[{"finding": "aortic_aneurysm", "modality": "ultrasound", "date": "2026-03-01"}]),
        kb,
    )
    assert "ct_angiography" in {t.test for t in on_us.workup.urgent}
    on_ct = assess(
        make_case(**mass, diagnostics=[{"finding": "aortic_aneurysm", "modality": "ct", "date": "2026-03-01"}]), kb
    )
    assert "ct_angiography" not in {t.test for t in on_ct.workup.urgent}
    assert "ct_angiography" in {r.test for r in on_ct.workup.recorded}


def test_a_rod_broken_on_plain_films_still_needs_its_ct_and_one_seen_on_ct_does_not(kb: KnowledgeBase) -> None:
    fusion = {"index_surgery": {"type": "fusion", "date": "2024-01-01", "levels": ["L3-S1"], "approach": "tlif"}}
    on_xray = assess(make_case(**fusion, diagnostics=[{"finding": "rod_fracture", "modality": "xray"}]), kb)
    assert "ct_implant" in {t.test for t in on_xray.workup.urgent}
    on_ct = assess(
        make_case(
            **fusion,
            diagnostics=[
                {"finding": "rod_fracture", "modality": "xray", "level": "L4-L5"},
                {"finding": "rod_fracture", "modality": "ct", "level": "L4-L5", "side": "left"},
            ],
        ),
        kb,
    )
    assert "ct_implant" not in {t.test for t in on_ct.workup.urgent}
    done = next(r for r in on_ct.workup.recorded if r.test == "ct_implant")
    assert done.result == "Broken rod (L4-L5, left, CT)"  # what the CT showed, not the plain film
