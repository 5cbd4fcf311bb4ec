"""Shared FHIR fixtures: the hand-built bundles, the spec examples, a CDS Hooks app and client key pairs."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

with warnings.catch_warnings():  # starlette's TestClient warns about its own httpx dependency
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from fbss.fhir.cds_auth import TrustedIssuer, parse_issuers
from fbss.fhir.cds_hooks import CdsSettings, create_cds_app

HERE = Path(__file__).resolve().parent
BUNDLES = HERE / "bundles"
SPEC = HERE / "spec_examples"
SERVICE = "/cds-services/fbss-patient-view"
ASSESSED_ON = dt.date(2026, 10, 2)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def bundle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load(BUNDLES / f"{name}.json")
    return data


def prefetch_from(data: dict[str, Any]) -> dict[str, Any]:
    """A bundle split into the service's prefetch keys, as an EHR would send them."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in data["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry)
    keys = {
        "conditions": "Condition",
        "procedures": "Procedure",
        "observations": "Observation",
        "questionnaireResponses": "QuestionnaireResponse",
        "diagnosticReports": "DiagnosticReport",
        "medications": "MedicationStatement",
        "medicationRequests": "MedicationRequest",
        "allergies": "AllergyIntolerance",
    }
    prefetch: dict[str, Any] = {"patient": by_type["Patient"][0]["resource"]}
    for key, kind in keys.items():
        entries = by_type.get(kind)
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": entries} if entries else None
    return prefetch


def hook_request(data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    patient = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient")
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": patient["id"]},
        "prefetch": prefetch_from(data),
        **extra,
    }


def card_of(cards: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The card whose source label names `kind` ('red flags', 'differential', 'work-up', 'SCS')."""
    found = [card for card in cards if card["source"]["label"].startswith(f"FBSS Navigator {kind}")]
    assert len(found) == 1, [card["summary"] for card in cards]
    return found[0]


def cds_client(settings: CdsSettings | None = None, **kwargs: Any) -> TestClient:
    app = create_cds_app(
        settings or CdsSettings(auth_required=False, app_base_url="https://fbss.example.org"), **kwargs
    )
    app.state.cds.today = lambda: ASSESSED_ON
    return TestClient(app)


@pytest.fixture
def client() -> TestClient:
    return cds_client()


class Signer:
    """A CDS Client with an ES384 key pair, issuing tokens for one endpoint at a time."""

    def __init__(self, iss: str = "https://ehr.example.org", kid: str = "ehr-key-1") -> None:
        self.iss = iss
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP384R1())
        self.public_pem = (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "ES384", "use": "sig"}]}

    def issuers(self) -> dict[str, TrustedIssuer]:
        return parse_issuers({self.iss: {"jwks": self.jwks()}}, "test")

    def token(self, aud: str, *, lifetime: int = 300, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.iss, "aud": aud, "exp": now + lifetime, "iat": now, "jti": str(uuid.uuid4()), **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(
            payload, self.key, algorithm="ES384", headers={"kid": self.kid, "typ": "JWT", **(headers or {})}
        )


@pytest.fixture
def signer() -> Signer:
    return Signer()
