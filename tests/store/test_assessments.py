"""Stored assessments are reproducible: the same snapshot, engine and knowledge give the identical JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt

from fbss.case.model import Case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import ENGINE_VERSION, assess
from fbss.reports.data import to_data
from fbss.store.repository import Repository


def test_reassessing_the_stored_snapshot_gives_the_identical_json(
    repo: Repository, example_case: Case, kb: KnowledgeBase
) -> None:
    repo.add_patient("MRN-1")
    repo.save_case("MRN-1", example_case)
    stored, _ = repo.assess_case("MRN-1", kb)
    assert (stored.engine_version, stored.knowledge_version, stored.knowledge_fingerprint) == (
        ENGINE_VERSION,
        kb.version,
        kb.fingerprint,
    )
    # Later, from the database alone: the snapshot, its as-of date, the same engine and knowledge.
    [again] = repo.assessments("MRN-1")
    snapshot = repo.case_version("MRN-1", again.case_version).case()
    rerun = to_data(assess(snapshot.model_copy(update={"assessment_date": again.as_of}), kb), kb)
    assert rerun == again.result
    assert repo.reproduce(again.id, kb).identical


def test_a_case_without_a_date_is_assessed_as_of_a_stored_date(
    repo: Repository, example_case: Case, kb: KnowledgeBase
) -> None:
    undated = example_case.model_copy(update={"assessment_date": None})
    repo.add_patient("MRN-1")
    repo.save_case("MRN-1", undated)
    stored, _ = repo.assess_case("MRN-1", kb, as_of=dt.date(2026, 10, 2))
    assert stored.as_of == dt.date(2026, 10, 2)
    assert repo.reproduce(stored.id, kb).identical


def test_a_different_knowledge_base_is_reported_not_compared(
    repo: Repository, example_case: Case, kb: KnowledgeBase
) -> None:
    repo.add_patient("MRN-1")
    repo.save_case("MRN-1", example_case)
    stored, _ = repo.assess_case("MRN-1", kb)
    changed = dataclasses.replace(kb, fingerprint="0" * 16)
    result = repo.reproduce(stored.id, changed)
    assert not result.comparable and not result.identical
    assert kb.fingerprint in result.reason


def test_each_assessment_points_at_the_version_it_assessed(
    repo: Repository, example_case: Case, kb: KnowledgeBase
) -> None:
    repo.add_patient("MRN-1")
    repo.save_case("MRN-1", example_case)
    repo.save_case("MRN-1", example_case.model_copy(update={"notes": "second"}))
    first, _ = repo.assess_case("MRN-1", kb, version=1)
    latest, _ = repo.assess_case("MRN-1", kb)
    assert (first.case_version, latest.case_version) == (1, 2)
    assert [a.case_version for a in repo.assessments("MRN-1")] == [1, 2]
    assert repo.patient("MRN-1").assessments == 2


def test_latest_triage_reads_the_newest_assessment_of_the_newest_version(
    repo: Repository, example_case: Case, kb: KnowledgeBase
) -> None:
    from fbss.case.parse import read_case
    from tests.conftest import EXAMPLES

    repo.add_patient("MRN-1")
    repo.add_patient("MRN-2")
    repo.add_patient("MRN-3")  # nothing saved: not listed
    repo.save_case("MRN-1", example_case)
    repo.assess_case("MRN-1", kb)
    urgent = read_case(EXAMPLES / "cauda_equina_retention_day2_after_microdiscectomy.json")
    repo.save_case("MRN-2", example_case)
    repo.assess_case("MRN-2", kb)
    repo.save_case("MRN-2", urgent)  # a newer version, not yet assessed: the old result is not shown as current
    found = repo.latest_triage()
    assert set(found) == {"MRN-1"}
    assert found["MRN-1"].level is None and found["MRN-1"].fired == 0
    assert found["MRN-1"].leading_cause == "Recurrent disc herniation"
    repo.assess_case("MRN-2", kb)
    second = repo.latest_triage()["MRN-2"]
    assert (second.case_version, second.level) == (2, "emergency")
    assert second.fired >= 1
