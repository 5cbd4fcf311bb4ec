"""The lean read models refuse exactly what the full fhir.resources models refuse, in every element that is read.

Resources come from the example cases (exported as FHIR), the test bundles and the conformance corpus in the EHR's
dialect; each is mutated element by element (removed, given a value of the wrong type or an invalid primitive, an
unknown element name added, a null put in a list, a second type given to a choice element, …) and validated both
ways. Where the mutation touches an element the importer reads, or adds an unknown top-level name, the verdicts must
agree; elsewhere the lean model must accept what it does not read.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fbss.case.parse import read_case
from fbss.fhir.case_export import case_bundle
from fbss.fhir.importer import import_draft
from fbss.fhir.read_models import READ_ELEMENTS, read_elements, read_models
from fbss.fhir.resources import FhirError, Validation, validate_resource
from tests.conftest import EXAMPLES

HERE = Path(__file__).resolve().parent
READ = dict(read_elements())
SEED = 17
PER_RESOURCE = 6  # mutations drawn per resource: about 11,000 in all, over 1,800 resources

Path_ = tuple[str | int, ...]


def corpus() -> list[dict[str, Any]]:
    bundles = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((HERE / "bundles").glob("*.json"))]
    bundles += [json.loads(p.read_text(encoding="utf-8")) for p in sorted((HERE / "corpus").glob("*.json"))]
    bundles += [case_bundle(read_case(p)) for p in sorted(EXAMPLES.glob("*.json"))]
    found = []
    for bundle in bundles:
        for entry in bundle.get("entry", []):
            resource = entry.get("resource")
            if isinstance(resource, dict) and resource.get("resourceType") in READ_ELEMENTS:
                found.append(resource)
    return found


def nodes(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from nodes(item, (*path, i))


WRONG_VALUES: tuple[Any, ...] = (
    42,
    4.5,
    True,
    "",
    " padded ",
    "not a date",
    "2024-13-45",
    "x" * 3,
    {},
    [],
    {"bogus": 1},
    [None],
    None,
    "{}",
)
CHOICE_PREFIXES = ("value", "effective", "onset", "deceased", "medication", "performed")


Mutation = tuple[str, Path_, Callable[[], dict[str, Any]]]


def mutations(resource: dict[str, Any]) -> Iterator[Mutation]:
    """(what is done, the path it touches, how to make the mutated resource), for every node of the resource."""
    for path, value in nodes(resource):
        if not path or path[0] == "resourceType":
            continue
        parent_path, last = path[:-1], path[-1]

        def changed(edit: Any, parent_path: Path_ = parent_path) -> Callable[[], dict[str, Any]]:
            def make() -> dict[str, Any]:
                mutated = copy.deepcopy(resource)
                parent = mutated
                for step in parent_path:
                    parent = parent[step]
                edit(parent)
                return mutated

            return make

        if isinstance(last, str):
            yield "remove", path, changed(lambda p, k=last: p.pop(k))
            sibling = (*parent_path, f"_{last}")
            yield "add _element", sibling, changed(lambda p, k=last: p.update({f"_{k}": {}}))
            yield (
                "value as extension",
                sibling,
                changed(lambda p, k=last: p.update({f"_{k}": {"extension": [{"url": "u", "valueString": "x"}]}})),
            )
            for prefix in CHOICE_PREFIXES:
                if last.startswith(prefix) and last != prefix + "String":
                    second = (*parent_path, prefix + "String")
                    yield "second type", second, changed(lambda p, k=prefix: p.update({k + "String": "x"}))
        for wrong in WRONG_VALUES:
            yield f"set {wrong!r}", path, changed(lambda p, k=last, w=wrong: p.__setitem__(k, copy.deepcopy(w)))
        if isinstance(value, dict):
            yield "unknown name", path, changed(lambda p, k=last: p[k].update({"bogusElement": 1}))
        if isinstance(value, list):
            yield "null item", path, changed(lambda p, k=last: p[k].append(None))
            if value:
                yield "not a list", path, changed(lambda p, k=last: p.__setitem__(k, p[k][0]))
    yield "unknown top-level name", ("bogusElement",), lambda: {**resource, "bogusElement": 1}
    yield "misspelt top-level name", ("stauts",), lambda: {**resource, "stauts": "final"}


def accepts(resource: dict[str, Any], validation: Validation) -> bool:
    try:
        validate_resource(resource, remember=False, validation=validation)
    except FhirError:
        return False
    return True


def touches_what_is_read(kind: str, path: Path_) -> bool:
    top = str(path[0])
    return top in READ[kind] or top.removeprefix("_") in READ[kind] or top not in read_models()[kind].allowed


@pytest.fixture(scope="module")
def resources() -> list[dict[str, Any]]:
    found = corpus()
    assert {r["resourceType"] for r in found} >= {"Patient", "Condition", "Procedure", "Observation"}
    return found


def test_every_resource_of_the_corpus_gets_the_same_verdict_both_ways(resources: list[dict[str, Any]]) -> None:
    verdicts = [(accepts(r, Validation.strict), accepts(r, Validation.lean)) for r in resources]
    assert all(full == lean for full, lean in verdicts)
    assert sum(full for full, _ in verdicts) > 0.9 * len(verdicts)  # a few invalid ones on purpose (unmappable_items)


def test_lean_and_full_models_agree_on_every_mutation_of_an_element_that_is_read(
    resources: list[dict[str, Any]],
) -> None:
    chooser = random.Random(SEED)
    compared = refused = 0
    disagreements = []
    for resource in (r for r in resources if accepts(r, Validation.strict)):
        every = list(mutations(resource))
        for what, path, make in chooser.sample(every, min(PER_RESOURCE, len(every))):
            kind, mutated = resource["resourceType"], make()
            lean = accepts(mutated, Validation.lean)
            if touches_what_is_read(kind, path):
                full = accepts(mutated, Validation.strict)
                compared += 1
                refused += not full
                if lean != full:
                    disagreements.append(f"{kind} {what} at {'.'.join(map(str, path))}: lean {lean}, full {full}")
            else:
                assert lean, f"{kind} {what} at {path}: an element not read must not be refused"
    assert not disagreements, "\n".join(disagreements[:20])
    assert compared > 3000
    assert 0.2 < refused / compared < 0.9  # the mutations are neither all harmless nor all fatal


def test_a_lean_refusal_names_the_element() -> None:
    observation = {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": 7}]}}
    with pytest.raises(FhirError, match=r"Observation: code\.coding\.0\.system"):
        validate_resource(observation, remember=False, validation=Validation.lean)


def test_an_unread_element_is_not_validated_by_the_lean_model_but_its_name_is() -> None:
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "meta": {"bogus": 1}}
    assert accepts(observation, Validation.lean)
    assert not accepts(observation, Validation.strict)
    with pytest.raises(FhirError, match="metta"):
        validate_resource({**observation, "metta": {}}, remember=False, validation=Validation.lean)


def test_strict_import_refuses_what_lean_import_reads_past() -> None:
    patient = {"resourceType": "Patient", "id": "p1", "text": {"status": "generated", "div": 12}}
    assert not any("invalid FHIR R4" in reason for reason in unmapped_reasons(patient, Validation.lean))
    assert any("invalid FHIR R4" in reason for reason in unmapped_reasons(patient, Validation.strict))


def unmapped_reasons(resource: dict[str, Any], validation: Validation) -> list[str]:
    draft = import_draft([(None, resource)], remember_valid=False, validation=validation)
    return [u.reason for u in draft.report.unmapped]
