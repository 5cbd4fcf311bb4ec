"""Conformance with the CDS Hooks specification's own examples (tests/fhir/spec_examples/)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from fbss.fhir.cds_auth import AuthError, TokenVerifier, parse_issuers
from fbss.fhir.cds_models import Card, CdsRequest, CdsResponse, CdsService, Discovery, FeedbackRequest, Source
from tests.fhir.conftest import SERVICE, SPEC, load


def test_our_models_read_the_spec_discovery_example() -> None:
    example = load(SPEC / "discovery.json")
    assert Discovery.model_validate(example).model_dump(exclude_none=True) == example


def test_our_discovery_has_the_spec_shape(client: TestClient) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"services"}
    [service] = data["services"]
    example = load(SPEC / "discovery.json")["services"][0]
    assert set(example) <= set(service) | {"usageRequirements"}
    assert service["hook"] == "patient-view" and service["id"] == "fbss-patient-view"
    assert all("{{context.patientId}}" in template for template in service["prefetch"].values())
    CdsService.model_validate(service)
    assert all(value not in (None, "", [], {}) for value in service.values())  # no null or empty attributes


def test_our_models_read_the_spec_request_example() -> None:
    request = CdsRequest.model_validate(load(SPEC / "request.json"))
    assert request.hook == "patient-view" and request.context["patientId"] == "1288992"
    assert request.fhirAuthorization is not None and request.fhirAuthorization.subject == "cds-service4"
    assert CdsRequest.model_validate(
        {**load(SPEC / "request.json"), **load(SPEC / "fhir_authorization.json")}
    ).fhirAuthorization


@pytest.mark.parametrize("name", ["response.json", "response_empty.json"])
def test_our_models_read_the_spec_response_examples(name: str) -> None:
    example = load(SPEC / name)
    assert CdsResponse.model_validate(example).model_dump(exclude_none=True) == example


def test_the_spec_source_example() -> None:
    example = load(SPEC / "source.json")["source"]
    assert Source.model_validate(example).model_dump(exclude_none=True) == example


@pytest.mark.parametrize(
    "name", ["feedback_accepted.json", "feedback_overridden.json", "feedback_override_reason.json"]
)
def test_the_spec_feedback_examples_are_accepted(client: TestClient, name: str) -> None:
    example = load(SPEC / name)
    FeedbackRequest.model_validate(example)
    first = client.post(f"{SERVICE}/feedback", json=example)
    assert first.status_code == 200 and first.json() == {"recorded": 1, "duplicates": 0}
    again = client.post(f"{SERVICE}/feedback", json=example)  # feedback may arrive more than once
    assert again.status_code == 200 and again.json() == {"recorded": 0, "duplicates": 1}


def test_the_spec_request_example_gets_412_when_its_fhir_server_cannot_be_reached(client: TestClient) -> None:
    # the example prefetches only under its own key; our service would have to query the (unreachable) server
    example: dict[str, Any] = load(SPEC / "request.json")
    example["fhirServer"] = "http://127.0.0.1:9"  # discard port: connection refused at once
    response = client.post(SERVICE, json=example)
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"


def test_the_spec_jwt_example_verifies_with_its_published_key_and_is_expired() -> None:
    example = load(SPEC / "jwt_example.json")
    header = jwt.get_unverified_header(example["token"])
    assert {k: header[k] for k in ("alg", "typ", "kid")} == {k: example["header"][k] for k in ("alg", "typ", "kid")}
    issuer = example["payload"]["iss"]
    verifier = TokenVerifier(
        parse_issuers({issuer: {"jwks": example["public_jwks"], "jku": [example["header"]["jku"]]}}, "spec")
    )
    with pytest.raises(AuthError, match="expired"):  # exp 1422568860 is in 2015
        verifier.verify(f"Bearer {example['token']}", example["payload"]["aud"])


def test_a_fresh_token_signed_with_the_spec_key_is_accepted() -> None:
    import time

    example = load(SPEC / "jwt_example.json")
    private = jwt.PyJWK.from_dict(example["private_jwk"]).key
    now = int(time.time())
    payload = {**example["payload"], "iat": now, "exp": now + 60}
    token = jwt.encode(payload, private, algorithm="ES384", headers=example["header"])
    issuer = payload["iss"]
    verifier = TokenVerifier(
        parse_issuers({issuer: {"jwks": example["public_jwks"], "jku": [example["header"]["jku"]]}}, "spec")
    )
    claims = verifier.verify(f"Bearer {token}", payload["aud"])
    assert claims["tenant"] == payload["tenant"]


def test_card_rules_from_the_spec() -> None:
    source = Source(label="x")
    with pytest.raises(ValueError, match="shorter than 140"):
        Card(summary="x" * 140, indicator="info", source=source)
    with pytest.raises(ValueError, match="selectionBehavior"):
        Card(summary="s", indicator="info", source=source, suggestions=[{"label": "do"}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="display"):
        Card(summary="s", indicator="info", source=source, overrideReasons=[{"code": "c"}])  # type: ignore[list-item]
