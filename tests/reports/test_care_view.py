"""The care view lays out the Assessment's own planning results: same order, same ratings, knowledge texts added."""

from __future__ import annotations

import pytest

from fbss.case.parse import read_case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from fbss.reports.care_view import care_view
from tests.conftest import EXAMPLES


@pytest.mark.parametrize(
    "name", ["recurrent_herniation_after_discectomy", "cauda_equina_retention_day2_after_microdiscectomy"]
)
def test_the_view_reuses_the_assessment(name: str, kb: KnowledgeBase) -> None:
    a = assess(read_case(EXAMPLES / f"{name}.json"), kb)
    view = care_view(a, kb)
    assert [o.rating for o in view.options] == list(a.options.options)
    assert view.categories == a.options.categories
    assert [t.test for t in view.ranked] == list(a.workup.ranked)
    assert [t.test for t in view.urgent] == list(a.workup.urgent)
    assert view.plan is a.plan and view.scs is a.scs


def test_options_carry_pros_cons_and_resolvable_sources(kb: KnowledgeBase) -> None:
    a = assess(read_case(EXAMPLES / "recurrent_herniation_after_discectomy.json"), kb)
    view = care_view(a, kb)
    for option in view.options:
        assert option.advantages and option.disadvantages, option.rating.id
    revision = next(o for o in view.options if o.rating.id == "revision_discectomy")
    assert revision.grid is not None and revision.grid.involves
    assert set(view.sources()) <= set(kb.sources)
    assert all(t.burden_parts is not None for t in view.ranked)
