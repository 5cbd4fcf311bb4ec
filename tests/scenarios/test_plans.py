"""The care plan of each example case matches examples/expected_plans.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fbss.case.parse import read_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reasoning.care_results import Label

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((EXAMPLES / "expected_plans.yaml").read_text())["cases"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_plan(name: str, kb: KnowledgeBase) -> None:
    path = EXAMPLES / "cases" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path.name} is not in this checkout")
    expected = EXPECTED[name]
    a = assess(read_case(path), kb)
    categories = {r.id: r.label for r in a.options.categories}
    for category, label in expected.get("categories", {}).items():
        assert categories[category] is Label(label), f"{category}: {categories[category].value}, expected {label}"
    if "scs" in expected:
        got = "stopped" if a.scs.advice is None else a.scs.advice.value
        assert got == expected["scs"]
    if "urgent" in expected:
        assert sorted(t.test for t in a.workup.urgent) == sorted(expected["urgent"])
    if "first_urgent" in expected:  # the urgent tests that must head the list, in this order
        head = [t.test for t in a.workup.urgent][: len(expected["first_urgent"])]
        assert head == expected["first_urgent"]
    if "recorded" in expected:
        assert sorted(r.test for r in a.workup.recorded) == sorted(expected["recorded"])
    if "definitive" in expected:
        # the treatments the red flags call for come right after their actions, before any test
        head = []
        for step in a.plan.steps:
            if step.kind not in ("red_flag", "definitive"):
                break
            head.append(step)
        definitive = {s.ref for s in head if s.kind == "definitive"}
        assert set(expected["definitive"]) <= definitive, f"plan head: {[s.title for s in head]}"
        labels = {r.id: r.label for r in a.options.options}
        for option, label in expected["definitive"].items():
            assert labels[option] is Label(label), f"{option}: {labels[option].value}, expected {label}"
    first = [t.test for t in (*a.workup.ranked[:5], *a.workup.questions[:5])]
    for test in expected.get("first_workup", []):
        assert test in first, f"{test} not among the first tests {first}"
    suggested = {t.test for t in (*a.workup.urgent, *a.workup.ranked)}
    for test in expected.get("not_workup", []):
        assert test not in suggested
    options = {r.id: r.label for r in a.options.options}
    for option in expected.get("appropriate", []):
        assert options[option] is Label.appropriate, f"{option}: {options[option].value}"
    for option in expected.get("not_appropriate", []):
        assert options[option] is not Label.appropriate, option


@pytest.mark.parametrize("name", sorted(p.stem for p in (EXAMPLES / "cases").glob("*.json")))
def test_a_red_flag_never_makes_the_care_it_calls_for_look_inappropriate(name: str, kb: KnowledgeBase) -> None:
    """The category holding a fired flag's definitive care is rated with it: an epidural haematoma's evacuation never
    sits under a re-operation rated "no anatomic target"."""
    a = assess(read_case(EXAMPLES / "cases" / f"{name}.json"), kb)
    options = {r.id: r for r in a.options.options}
    categories = {r.category: r for r in a.options.categories}
    for flag in a.triage.fired:
        for option in flag.definitive:
            rating = options[option]
            if rating.label is Label.inappropriate:
                continue  # the flag's action stands alone (implant revision with the implants intact)
            category = categories[rating.category]
            assert category.score >= rating.score, f"{flag.flag}: {category.id} {category.label.value} below {option}"
            assert not any("No anatomic target" in b.because for b in category.because), category.because


def test_after_a_non_union_the_analgesic_option_warns_against_regular_nsaids(kb: KnowledgeBase) -> None:
    """NSAIDs' effect on fusion is dose- and duration-dependent (Sivaganesan 2017): after a CT-proven non-union the
    simple-analgesic option says paracetamol rather than a regular NSAID."""
    a = assess(read_case(EXAMPLES / "cases" / "pseudarthrosis_after_tlif.json"), kb)
    analgesics = next(r for r in a.options.options if r.id == "analgesics_nociceptive")
    assert any(b.rule == "nsaid_non_union" and "sivaganesan_2017" in b.sources for b in analgesics.because)
    quiet = assess(read_case(EXAMPLES / "cases" / "myofascial_pain_after_laminectomy.json"), kb)
    assert not any(b.rule == "nsaid_non_union" for r in quiet.options.options for b in r.because)
