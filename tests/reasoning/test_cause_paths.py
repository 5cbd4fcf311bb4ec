"""Every cause in the knowledge base has a referral or treatment path, and a plan for a likely cause shows its next
action: the path's step, or a treatment that completes the path already rated appropriate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fbss.case.parse import read_case
from fbss.errors import KnowledgeError
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import DATA_DIR, default_knowledge, load_knowledge
from fbss.reasoning.appropriateness import appropriateness
from fbss.reasoning.concepts import care_states
from fbss.reasoning.differential import differential
from fbss.reasoning.findings import read_findings
from fbss.reasoning.plan import plan
from fbss.reasoning.scs import scs_advice
from fbss.reasoning.triage import triage
from fbss.reasoning.workup import workup
from tests.conftest import EXAMPLES

QUIET_CASE = EXAMPLES / "unchanged_pain_after_technically_good_decompression.json"


def test_every_cause_has_a_referral_or_treatment_path(kb: KnowledgeBase) -> None:
    paths = {p.cause for p in kb.care.plan.cause_paths}
    missing = [c.id for c in kb.causes if c.id not in paths]
    assert not missing, f"causes without a referral or treatment path in plan.yaml cause_paths: {missing}"


def test_a_path_names_only_treatments_aimed_at_its_cause_or_its_work_up(kb: KnowledgeBase) -> None:
    treatments = {t.id: t for t in kb.care.treatments}
    for path in kb.care.plan.cause_paths:
        assert path.title and path.action
        for option in path.options:
            assert option in treatments, (path.cause, option)


@pytest.mark.parametrize("cause_id", sorted(c.id for c in default_knowledge().causes))
def test_a_likely_cause_always_has_a_next_action_in_the_plan(cause_id: str, kb: KnowledgeBase) -> None:
    """Making one cause likely puts its path, or a treatment that completes it, in the plan."""
    case = read_case(QUIET_CASE)
    found = read_findings(case, kb)
    flags = triage(found, kb)
    assert not flags.fired
    causes = differential(found, kb)
    meta = {c.id: c for c in kb.causes}
    template = causes.causes[0]
    forced = template._replace(
        cause=cause_id, title=meta[cause_id].title, category=meta[cause_id].category, probability=0.9
    )
    others = tuple(c for c in causes.causes if c.cause != cause_id)
    causes = causes._replace(causes=(forced, *others))
    care = care_states(found, flags, causes, kb)
    ratings = appropriateness(care, kb)
    scs = scs_advice(care, kb)
    tests = workup(care, flags, causes, ratings, scs, kb)
    steps = plan(care, flags, causes, tests, ratings, scs, kb).steps
    path = next(p for p in kb.care.plan.cause_paths if p.cause == cause_id)
    assert any(s.ref == cause_id or (s.kind == "treatment" and s.ref in path.options) for s in steps), [
        (s.kind, s.title) for s in steps
    ]


def test_the_hip_path_leads_with_the_hip_specialist(kb: KnowledgeBase) -> None:
    from fbss.reasoning.assess import assess

    a = assess(read_case(EXAMPLES / "hip_osteoarthritis_mimicking_radiculopathy_after_decompression.json"), kb)
    refer = [s for s in a.plan.steps if s.kind == "refer"]
    assert refer and refer[0].ref == "hip_pathology"
    assert refer[0].title == "Refer to an orthopaedic hip specialist"
    assert "intra-articular hip injection" in refer[0].detail


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  - cause: hip_pathology\n",
            "  - cause: hip_disease\n",
            r"plan\.yaml.*cause_paths names unknown cause 'hip_disease'",
        ),
        ("  - cause: tumour\n", "  - cause: hip_pathology\n", r"cause 'hip_pathology' already has a path"),
        (
            "    options: [pain_psychology]\n",
            "    options: [mindfulness_app]\n",
            r"options names unknown treatment\(s\) \['mindfulness_app'\]",
        ),
    ],
)
def test_a_bad_path_is_refused(kb_dir: Path, old: str, new: str, message: str) -> None:
    path = kb_dir / "plan.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(kb_dir)
