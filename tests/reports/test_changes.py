"""What changed between two stored assessments, read from the stored JSON as the clinician saw it."""

from __future__ import annotations

import dataclasses

from fbss.case.parse import read_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reports.changes import assessment_changes, summarise
from fbss.reports.data import to_data
from tests.conftest import EXAMPLES


def stored(name: str, kb: KnowledgeBase, **changes: object) -> dict[str, object]:
    case = read_case(EXAMPLES / f"{name}.json")
    if changes:
        case = case.model_copy(update=changes)
    return to_data(assess(case, kb), kb)


def test_the_same_assessment_changes_nothing(kb: KnowledgeBase) -> None:
    result = stored("recurrent_herniation_after_discectomy", kb)
    assert assessment_changes(summarise(result), summarise(result)) == []


def test_imaging_that_shows_the_lesion(kb: KnowledgeBase) -> None:
    before = stored("recurrent_herniation_after_discectomy", kb, studies=(), diagnostics=())
    after = stored("recurrent_herniation_after_discectomy", kb)
    lines = assessment_changes(summarise(before), summarise(after))
    assert any(line.startswith("Recurrent disc herniation:") for line in lines)
    assert any(line.startswith("Category Re-operation:") for line in lines)


def test_a_red_flag_appearing_comes_first(kb: KnowledgeBase) -> None:
    calm = stored("recurrent_herniation_after_discectomy", kb)
    urgent = stored("cauda_equina_retention_day2_after_microdiscectomy", kb)
    lines = assessment_changes(summarise(calm), summarise(urgent))
    assert lines[0].startswith("Red flag now fired:")
    back = assessment_changes(summarise(urgent), summarise(calm))
    assert back[0].startswith("Red flag no longer fired:")


def test_an_older_stored_result_without_care_sections(kb: KnowledgeBase) -> None:
    """Results stored before the care planner existed have no options or SCS: those lines are simply absent."""
    new = stored("recurrent_herniation_after_discectomy", kb)
    old = {k: v for k, v in new.items() if k not in ("options", "scs", "workup", "plan")}
    summary = summarise(old)
    assert summary.scs_advice is None and not summary.categories
    assert assessment_changes(summary, summarise(new)) == []
    assert dataclasses.is_dataclass(summary)
