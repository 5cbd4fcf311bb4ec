"""The patient-view service: cards for several causes, and the right status for every kind of bad request."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fbss.fhir.cds_hooks import CdsSettings, MemoryFeedbackSink
from tests.fhir.conftest import SERVICE, bundle, card_of, cds_client, hook_request


def cards(client: TestClient, name: str, **extra: Any) -> list[dict[str, Any]]:
    response = client.post(SERVICE, json=hook_request(bundle(name), **extra))
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["cards"]
    for card in result:
        assert len(card["summary"]) < 140
        assert card["source"]["label"]
        assert card["indicator"] in ("info", "warning", "critical")
    return result


def test_cauda_equina_gives_a_critical_card_first(client: TestClient) -> None:
    result = cards(client, "cauda_equina_after_microdiscectomy")
    first = result[0]
    assert first["indicator"] == "critical"
    assert first["summary"].startswith("EMERGENCY: Suspected cauda equina syndrome — Emergency decompression")
    assert first["detail"].index("**Definitive treatment:**") < first["detail"].index("**Fired by**")
    assert "Retention of urine" in first["detail"] or "retention" in first["detail"].lower()
    assert first["source"]["url"].startswith("http")
    assert first["source"]["topic"]["code"] == "cauda_equina"
    [launch] = first["links"]  # no record number in the Patient: no link into the app (the EHR's id means nothing)
    # the EHR launches the app with this patient (SMART App Launch): the chart becomes a case draft
    assert launch["type"] == "smart" and launch["url"] == "https://fbss.example.org/smart/launch"
    assert {r["code"] for r in first["overrideReasons"]} >= {"already-addressed", "disagree"}


def test_recurrent_herniation_leads_the_differential_with_its_reasons(client: TestClient) -> None:
    result = cards(client, "recurrent_herniation_after_microdiscectomy")
    assert all(card["indicator"] != "critical" for card in result)
    differential = card_of(result, "differential")
    assert differential["summary"].startswith("Most likely cause: Recurrent disc herniation")
    assert differential["indicator"] == "warning"  # a strong leader
    assert "| 1 | Recurrent disc herniation |" in differential["detail"]
    assert "Recurrent disc herniation on imaging" in differential["detail"]
    assert "](http" in differential["detail"]  # sources are linked
    assert "could not be read" in differential["detail"]  # the report text the importer listed


def test_pseudarthrosis_after_fusion(client: TestClient) -> None:
    differential = card_of(cards(client, "pseudarthrosis_after_fusion"), "differential")
    assert "Pseudarthrosis" in differential["summary"]


def test_epidural_abscess_is_an_emergency(client: TestClient) -> None:
    result = cards(client, "epidural_abscess_after_laminectomy")
    assert result[0]["indicator"] == "critical"
    assert "epidural abscess" in result[0]["summary"].lower()


def test_null_prefetch_keys_mean_no_data(client: TestClient) -> None:
    request = hook_request(bundle("cauda_equina_after_microdiscectomy"))
    request["prefetch"]["observations"] = None
    assert client.post(SERVICE, json=request).status_code == 200


def test_a_patient_without_spine_surgery_gets_no_cards(client: TestClient) -> None:
    data = bundle("epidural_abscess_after_laminectomy")
    request = hook_request(data)
    request["prefetch"]["procedures"] = None
    response = client.post(SERVICE, json=request)
    assert response.status_code == 200 and response.json() == {"cards": []}


def test_psps_without_an_operation_gets_one_info_card(client: TestClient) -> None:
    request = hook_request(bundle("recurrent_herniation_after_microdiscectomy"))
    request["prefetch"]["procedures"] = None
    [card] = client.post(SERVICE, json=request).json()["cards"]
    assert card["indicator"] == "info" and "no spine operation" in card["summary"]
    assert "M96.1" in card["detail"]
    [launch] = card["links"]
    assert launch["type"] == "smart"  # the clinician adds the operation in the case draft


def test_chronic_pain_alone_without_an_operation_gets_no_card(client: TestClient) -> None:
    """Chronic pain (SNOMED 82423001) is recognised but is not PSPS-T2: no card asks for a spine operation."""
    data = bundle("epidural_abscess_after_laminectomy")
    request = hook_request(data)
    request["prefetch"]["procedures"] = None
    chronic_pain = {
        "resourceType": "Condition",
        "id": "chronic-pain",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "82423001", "display": "Chronic pain"}]},
        "subject": {"reference": f"Patient/{request['context']['patientId']}"},
    }
    conditions = request["prefetch"]["conditions"] or {"resourceType": "Bundle", "type": "searchset", "entry": []}
    conditions["entry"].append({"resource": chronic_pain})
    request["prefetch"]["conditions"] = conditions
    response = client.post(SERVICE, json=request)
    assert response.status_code == 200 and response.json() == {"cards": []}


def test_feedback_for_an_issued_card_is_stored() -> None:
    sink = MemoryFeedbackSink()
    client = cds_client(feedback_sink=sink)
    card = cards(client, "cauda_equina_after_microdiscectomy")[0]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "MRI already booked"},
                "outcomeTimestamp": "2026-10-02T09:15:00Z",
            }
        ]
    }
    assert client.post(f"{SERVICE}/feedback", json=feedback).json() == {"recorded": 1, "duplicates": 0}
    [record] = sink.records
    assert record.card_issued and record.override_reason == "already-addressed"
    assert record.user_comment == "MRI already booked"


# --- errors: the right status and body, never a 500 ---------------------------------------------------------


def valid() -> dict[str, Any]:
    return hook_request(bundle("cauda_equina_after_microdiscectomy"))


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 400, "JSON object"),
        (b'"text"', 400, "JSON object"),
    ],
)
def test_malformed_bodies(client: TestClient, body: bytes, status: int, fragment: str) -> None:
    response = client.post(SERVICE, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"] in ("invalid_json", "invalid_request")
    assert fragment in response.json()["message"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda r: r.pop("hook"), "hook"),
        (lambda r: r.pop("hookInstance"), "hookInstance"),
        (lambda r: r.pop("context"), "context"),
        (lambda r: r["context"].pop("patientId"), "patientId"),
        (lambda r: r["context"].update(patientId="../etc"), "patientId"),
        (lambda r: r.update(hook="order-sign"), "patient-view"),
        (lambda r: r.update(fhirServer="ftp://x"), "fhirServer"),
        (
            lambda r: r.update(
                fhirAuthorization={
                    "access_token": "t",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "scope": "patient/*.read",
                    "subject": "fbss",
                }
            ),
            "fhirServer is required",
        ),
        (lambda r: r.update(prefetch="everything"), "prefetch"),
    ],
)
def test_missing_or_wrong_fields_get_400(client: TestClient, change: Any, fragment: str) -> None:
    request = valid()
    change(request)
    response = client.post(SERVICE, json=request)
    assert response.status_code == 400, response.text
    assert fragment in response.text


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("patient", {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}, "expected a Patient"),
        ("patient", {"resourceType": "Patient", "id": "someone-else"}, "context.patientId"),
        ("conditions", {"resourceType": "Patient", "id": "ce-1"}, "expected a searchset Bundle of Condition"),
        ("procedures", [1, 2], "expected a FHIR resource object"),
        ("observations", {"resourceType": "Bundle", "type": "searchset", "entry": "x"}, "entry must be a list"),
    ],
)
def test_wrong_prefetch_resources_get_400_with_an_operation_outcome(
    client: TestClient, key: str, value: Any, fragment: str
) -> None:
    request = valid()
    request["prefetch"][key] = value
    response = client.post(SERVICE, json=request)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert fragment in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"] == [f"prefetch.{key}"]


def test_invalid_resources_inside_prefetch_are_reported_not_fatal(client: TestClient) -> None:
    request = valid()
    request["prefetch"]["observations"]["entry"].append({"resource": {"resourceType": "Observation", "code": {}}})
    response = client.post(SERVICE, json=request)
    assert response.status_code == 200
    assert "could not be read" in card_of(response.json()["cards"], "differential")["detail"]


def test_missing_required_prefetch_without_a_fhir_server_is_412(client: TestClient) -> None:
    request = valid()
    del request["prefetch"]["procedures"]
    response = client.post(SERVICE, json=request)
    assert response.status_code == 412
    assert "procedures" in response.json()["issue"][0]["diagnostics"]


def test_missing_optional_prefetch_is_named_on_the_card(client: TestClient) -> None:
    request = valid()
    del request["prefetch"]["medications"]
    response = client.post(SERVICE, json=request)
    assert response.status_code == 200
    assert (
        "Not available to this assessment:** medications" in card_of(response.json()["cards"], "differential")["detail"]
    )


def test_a_fhir_server_off_the_allow_list_is_not_queried() -> None:
    client = cds_client(CdsSettings(auth_required=False, allowed_fhir_servers=("https://ehr.example.org/fhir",)))
    request = valid()
    del request["prefetch"]["patient"]
    request["fhirServer"] = "http://127.0.0.1:9"
    response = client.post(SERVICE, json=request)
    assert response.status_code == 412 and "allow list" in response.text


def test_unknown_service_is_404(client: TestClient) -> None:
    response = client.post("/cds-services/no-such-service", json=valid())
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert client.post("/cds-services/no-such-service/feedback", json={"feedback": []}).status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "feedback"),
        ({"feedback": []}, "feedback"),
        ({"feedback": [{"card": "c", "outcome": "maybe", "outcomeTimestamp": "2020-12-11T00:00:00Z"}]}, "outcome"),
        (
            {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2020-12-11T00:00:00Z"}]},
            "acceptedSuggestions",
        ),
        ({"feedback": [{"card": "c", "outcome": "overridden"}]}, "outcomeTimestamp"),
        ({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"}]}, "outcomeTimestamp"),
        (
            {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2020-12-11T00:00:00"}]},
            "time zone",
        ),
    ],
)
def test_bad_feedback_gets_400(client: TestClient, body: dict[str, Any], fragment: str) -> None:
    response = client.post(f"{SERVICE}/feedback", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_wrong_method_is_405(client: TestClient) -> None:
    assert client.get(SERVICE).status_code == 405
