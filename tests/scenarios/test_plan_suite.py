"""The plan scenario suite (plan_suite.yaml): each case's leading options, the options it must not rate appropriate,
its plan steps and their order, its SCS advice; and the suite covers every cause of the knowledge base."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from fbss.case.model import Case
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import PanelCategory
from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.care_results import Label
from tests.conftest import EXAMPLES, _merge, make_case

SUITE = Path(__file__).with_name("plan_suite.yaml")
CASES: list[dict[str, Any]] = yaml.safe_load(SUITE.read_text(encoding="utf-8"))["cases"]
LEADING = 3  # "leads": among the first three treatment or referral steps
ACTING_STEPS = {"definitive", "treatment", "refer"}


def build(spec: dict[str, Any]) -> Case:
    changes = spec.get("changes", {})
    if "example" in spec:
        base = json.loads((EXAMPLES / f"{spec['example']}.json").read_text(encoding="utf-8"))
        return Case.model_validate(_merge(base, changes))
    return make_case(**changes)


@cache
def _assessed(case_id: str, kb: KnowledgeBase) -> Assessment:
    spec = next(c for c in CASES if c["id"] == case_id)
    return assess(build(spec), kb)


def test_the_suite_is_large_enough_and_covers_every_cause(kb: KnowledgeBase) -> None:
    routine = [c for c in CASES if not c.get("urgent")]
    assert len(routine) >= 40
    covered = {cause for c in CASES for cause in c.get("causes", [])}
    assert {c.id for c in kb.causes} <= covered, {c.id for c in kb.causes} - covered
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("spec", CASES, ids=[c["id"] for c in CASES])
def test_plan_scenario(spec: dict[str, Any], kb: KnowledgeBase) -> None:
    a = _assessed(spec["id"], kb)
    if not spec.get("urgent"):
        assert not any(f.urgency is Urgency.emergency for f in a.triage.fired), "an emergency in a routine case"
    top = [c.cause for c in a.differential.causes[:3]]
    for cause in spec.get("causes", []):
        assert cause in top, f"{cause} not among the leading causes {top}"
    labels = {r.id: r.label for r in a.options.options}
    refs = [s.ref for s in a.plan.steps]
    acting = [s.ref for s in a.plan.steps if s.kind in ACTING_STEPS]
    options = {t.id for t in kb.care.treatments}
    for ref in spec.get("lead", []):
        if ref in options:
            assert labels[ref] is Label.appropriate, f"{ref} is {labels[ref].value}"
        assert ref in acting[:LEADING], f"{ref} does not lead: {acting}"
    for ref in spec.get("not", []):
        assert labels[ref] is not Label.appropriate, f"{ref} is rated appropriate"
        assert ref not in acting, f"{ref} is a plan step"
    for ref in spec.get("steps", []):
        assert ref in refs, f"{ref} missing from the plan {refs}"
    for first, then in spec.get("before", []):
        assert refs.index(first) < refs.index(then), f"{first} should come before {then}: {refs}"
    if "scs" in spec:
        advice = a.scs.advice.value if a.scs.advice is not None else "stopped"
        assert advice == spec["scs"]
    # a plan always has a next action, and without a fired red flag no operation is appropriate without a target
    assert acting or any(s.kind == "test" for s in a.plan.steps)
    if not a.triage.fired:
        surgical = [r for r in a.options.options if r.category is PanelCategory.reoperation and r.elective]
        if not any(kb_target(a, kb)):
            assert all(r.label is not Label.appropriate for r in surgical)


def kb_target(a: Assessment, kb: KnowledgeBase) -> list[bool]:
    """Whether any option of re-operation was rated on a shown target (its `requires` held)."""
    return [
        not any(b.rule == "requires" for b in r.because)
        for r in a.options.options
        if r.category is PanelCategory.reoperation and r.elective and r.label is Label.appropriate
    ]
