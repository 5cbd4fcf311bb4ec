"""import(export(case)) gives the case back: every example case, and random valid cases."""

from __future__ import annotations

import json
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings

from fbss.case.model import Case
from fbss.case.parse import read_case
from fbss.fhir.case_export import NOT_EXPORTED, case_bundle
from fbss.fhir.exporter import export_assessment
from fbss.fhir.importer import import_bundle
from fbss.knowledge.base import KnowledgeBase
from tests.conftest import EXAMPLES
from tests.strategies import valid_cases

EXAMPLE_CASES = sorted(EXAMPLES.glob("*.json"))


def same(case: Case, back: Case) -> bool:
    return back.model_dump(exclude=set(NOT_EXPORTED)) == case.model_dump(exclude=set(NOT_EXPORTED))


def test_every_example_case_survives_export_and_import(kb: KnowledgeBase) -> None:
    assert len(EXAMPLE_CASES) > 10
    for path in EXAMPLE_CASES:
        case = read_case(path)
        bundle = export_assessment(case, kb)
        result = import_bundle(json.dumps(bundle))
        assert same(case, result.case), path.name
        # only the assessment's own outputs are left over, each listed
        assert {u.reason.split(" is ")[-1] for u in result.report.unmapped} == {
            "an assessment output, not an input; not read"
        }


def test_an_exported_bundle_is_valid_fhir_r4b_as_a_whole(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLE_CASES[0])
    Bundle.model_validate(export_assessment(case, kb))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_cases())
def test_random_cases_survive_the_case_bundle(case: Case) -> None:
    result = import_bundle(case_bundle(case), assessment_date=case.assessment_date)
    assert same(case, result.case)
    assert result.report.unmapped == ()


def test_the_round_trip_does_not_depend_on_the_file(tmp_path: Path) -> None:
    case = read_case(EXAMPLE_CASES[0])
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(case_bundle(case)), encoding="utf-8")
    assert same(case, import_bundle(path.read_bytes()).case)
