"""The FHIR importer meets what the R4 models let through (nulls, coerced types) or what no model should see (3,000
nested levels): each resource it cannot read is listed as unread, and the import goes on; never a traceback."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from fbss.errors import FbssError
from fbss.fhir.importer import import_bundle
from tests.fhir.conftest import bundle
from tests.security import fuzz

SUBJECT = {"reference": "Patient/ce-1"}


def _deep(levels: int) -> dict[str, Any]:
    top: dict[str, Any] = {}
    node = top
    for _ in range(levels):
        node["item"] = [{"linkId": "a"}]
        node = node["item"][0]
    return top


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "QuestionnaireResponse.item null": lambda d: d["entry"].append(
        {
            "resource": {
                "resourceType": "QuestionnaireResponse",
                "id": "q1",
                "status": "completed",
                "subject": SUBJECT,
                "questionnaire": "http://loinc.org/q/44249-1",
                "item": None,
            }
        }
    ),
    "valueCoding null": lambda d: d["entry"].append(
        {
            "resource": {
                "resourceType": "QuestionnaireResponse",
                "id": "q2",
                "status": "completed",
                "subject": SUBJECT,
                "questionnaire": "http://loinc.org/q/44249-1",
                "item": [{"linkId": "1", "answer": [{"valueCoding": None}, {"valueInteger": None}]}],
            }
        }
    ),
    "Condition.code.coding null": lambda d: d["entry"].append(
        {"resource": {"resourceType": "Condition", "id": "c1", "subject": SUBJECT, "code": {"coding": None}}}
    ),
    "birthDate 0": lambda d: d["entry"][0]["resource"].update(birthDate=0),
    "birthDate digits": lambda d: d["entry"][0]["resource"].update(birthDate="١٩٧٩"),
    "3,000 nested items": lambda d: d["entry"].append(
        {
            "resource": {
                "resourceType": "QuestionnaireResponse",
                "id": "q3",
                "status": "completed",
                "subject": SUBJECT,
                **_deep(3000),
            }
        }
    ),
    "identifier null": lambda d: d["entry"][0]["resource"].update(identifier=[None, {"value": None}]),
    "a resource that is 3,000 nested lists": lambda d: d["entry"].append({"resource": fuzz.deep(3000)}),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS), ids=list(MUTATIONS))
def test_odd_resources_are_listed_unread_not_a_crash(mutation: str) -> None:
    """Before: each of these ended the import with a TypeError or RecursionError traceback."""
    data = copy.deepcopy(bundle("cauda_equina_after_microdiscectomy"))
    MUTATIONS[mutation](data)
    result = import_bundle(data)
    assert result.case.index_surgery.type.value == "microdiscectomy"  # the rest of the record is still read
    if "nested" not in mutation:  # (json.dumps itself cannot write 3,000 levels)
        assert import_bundle(json.dumps(data)).case == result.case  # the same as JSON text


def test_deeply_nested_bundle_text_is_a_clear_error() -> None:
    deep = '{"resourceType": "Bundle", "type": "collection", "entry": [' + "[" * 3000 + "]" * 3000 + "]}"
    with pytest.raises(FbssError, match="nested deeper than 64"):
        import_bundle(deep)


def test_a_number_too_long_to_read_is_a_clear_error() -> None:
    """Found by fuzzing: JSON text of a 5,000-digit number ended the import with Python's ValueError."""
    with pytest.raises(FbssError, match="number too long"):
        import_bundle("9" * 5000)


@pytest.mark.parametrize("element", ["resourceType", "type"])
def test_a_deeply_nested_bundle_element_is_named_in_a_short_error(element: str) -> None:
    """Found by fuzzing: a Bundle whose `type` (or `resourceType`) was 3,000 nested lists ended the import with a
    RecursionError while the error message showed the value."""
    data = copy.deepcopy(bundle("cauda_equina_after_microdiscectomy"))
    data[element] = list(fuzz.deep(3000))  # plain lists, as JSON decodes them
    with pytest.raises(FbssError) as refused:
        import_bundle(data)
    assert "[[[" in str(refused.value) and len(str(refused.value)) < 250


@pytest.mark.parametrize("as_text", [False, True], ids=["dict", "json"])
def test_a_lab_value_too_large_for_a_number_is_listed_unread(as_text: bool) -> None:
    """Found by fuzzing: a CRP whose valueQuantity.value was a 400-digit integer (valid as a FHIR decimal) ended the
    import with Python's OverflowError."""
    data = copy.deepcopy(bundle("cauda_equina_after_microdiscectomy"))
    data["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "crp-huge",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
                "subject": SUBJECT,
                "effectiveDateTime": "2026-09-30",
                "valueQuantity": {
                    "value": 10**400,
                    "unit": "mg/L",
                    "system": "http://unitsofmeasure.org",
                    "code": "mg/L",
                },
            }
        }
    )
    result = import_bundle(fuzz.dumps(data) if as_text else data)
    assert result.case.index_surgery.type.value == "microdiscectomy"
    unread = [u for u in result.report.unmapped if "crp-huge" in u.resource]
    assert unread and "too large to be a measurement" in unread[0].reason
