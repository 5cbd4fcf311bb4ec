"""Collect the FHIR data a CDS Hooks call needs: from `prefetch` where the client sent it, otherwise from the
client's `fhirServer` with its `fhirAuthorization` token (httpx, with a time-out). Data that cannot be had -> 412.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from fbss.errors import FbssError
from fbss.fhir.cds_models import CdsRequest, PatientViewContext
from fbss.fhir.outbound import send

PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "questionnaireResponses": "QuestionnaireResponse?patient={{context.patientId}}",
    "diagnosticReports": "DiagnosticReport?patient={{context.patientId}}",
    "medications": "MedicationStatement?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}
EXPECTED_TYPE = {
    "patient": "Patient",
    "conditions": "Condition",
    "procedures": "Procedure",
    "observations": "Observation",
    "questionnaireResponses": "QuestionnaireResponse",
    "diagnosticReports": "DiagnosticReport",
    "medications": "MedicationStatement",
    "medicationRequests": "MedicationRequest",
    "allergies": "AllergyIntolerance",
}
REQUIRED = ("patient", "procedures")  # without the operation there is no case to assess
MAX_PAGES = 5

ClientFactory = Callable[[], httpx.AsyncClient]


class PrefetchError(FbssError):
    """Prefetch data of the wrong shape or type: answered with 400 and an OperationOutcome."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


class DataUnavailableError(FbssError):
    """Required data neither prefetched nor obtainable from the FHIR server: answered with 412."""


@dataclass
class Gathered:
    resources: list[tuple[str | None, object]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # optional keys that could not be had
    fetched: list[str] = field(default_factory=list)  # keys read from the FHIR server


def render(template: str, context: PatientViewContext) -> str:
    """A prefetch template with its tokens replaced (only {{context.patientId}} and {{context.userId}} are used)."""
    return template.replace("{{context.patientId}}", quote(context.patientId, safe="")).replace(
        "{{context.userId}}", quote(context.userId, safe="/")
    )


def _bundle_resources(key: str, bundle: dict[str, Any]) -> list[tuple[str | None, object]]:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise PrefetchError(f"prefetch.{key}: Bundle.entry must be a list", key)
    found: list[tuple[str | None, object]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise PrefetchError(f"prefetch.{key}: every Bundle entry must be an object", key)
        resource = entry.get("resource")
        search: dict[str, Any] = entry["search"] if isinstance(entry.get("search"), dict) else {}
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            continue  # search outcome messages (search.mode = outcome)
        if search.get("mode") == "outcome":
            continue
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        found.append((full_url, resource))
    return found


def _accept(key: str, value: object, context: PatientViewContext) -> list[tuple[str | None, object]] | None:
    """Resources from one prefetch value; None if the client sent an OperationOutcome instead (fetch it ourselves)."""
    if not isinstance(value, dict):
        raise PrefetchError(f"prefetch.{key}: expected a FHIR resource object or null, got {type(value).__name__}", key)
    kind = value.get("resourceType")
    if kind == "OperationOutcome":
        return None
    if key == "patient":
        if kind != "Patient":
            raise PrefetchError(f"prefetch.patient: expected a Patient, got {kind!r}", key)
        if value.get("id") not in (None, context.patientId):
            raise PrefetchError(
                f"prefetch.patient is Patient/{value.get('id')}, but context.patientId is {context.patientId}", key
            )
        return [(f"Patient/{context.patientId}", value)]
    if kind != "Bundle":
        raise PrefetchError(f"prefetch.{key}: expected a searchset Bundle of {EXPECTED_TYPE[key]}, got {kind!r}", key)
    return _bundle_resources(key, value)


async def _fetch(
    client: httpx.AsyncClient, base: str, key: str, context: PatientViewContext, token: str | None
) -> list[tuple[str | None, object]]:
    headers = {"Accept": "application/fhir+json, application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url: str | None = f"{base}/{render(PREFETCH[key], context)}"
    found: list[tuple[str | None, object]] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        response = await send(client, "GET", url, headers=headers)
        if key == "patient" and response.status_code == 404:
            raise DataUnavailableError(f"{base}: Patient/{context.patientId} not found")
        if response.status_code >= 400:
            raise DataUnavailableError(f"{base}: {key} query answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise DataUnavailableError(f"{base}: {key} query did not return JSON") from None
        if key == "patient":
            return [(f"Patient/{context.patientId}", body)]
        if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
            raise DataUnavailableError(f"{base}: {key} query did not return a Bundle")
        found += _bundle_resources(key, body)
        url = next(
            (
                link.get("url")
                for link in body.get("link", [])
                if isinstance(link, dict)
                and link.get("relation") == "next"
                and str(link.get("url", "")).startswith(base)
            ),
            None,
        )
    return found


async def gather(
    request: CdsRequest,
    context: PatientViewContext,
    *,
    client_factory: ClientFactory,
    allowed_servers: tuple[str, ...] = (),
) -> Gathered:
    """Every resource for the assessment, with the optional keys that could not be obtained."""
    prefetch = request.prefetch or {}
    gathered = Gathered()
    missing: list[str] = []
    for key in PREFETCH:
        if key not in prefetch:
            missing.append(key)
            continue
        value = prefetch[key]
        if value is None:
            continue  # the client has no data for this key
        accepted = _accept(key, value, context)
        if accepted is None:
            missing.append(key)
        else:
            gathered.resources += accepted
    if not missing:
        return gathered
    server = request.fhirServer
    if server is None or (allowed_servers and not server.startswith(allowed_servers)):
        required = [k for k in missing if k in REQUIRED]
        why = "no fhirServer was given" if server is None else f"fhirServer {server} is not on the allow list"
        if required:
            raise DataUnavailableError(f"prefetch lacks {', '.join(required)} and {why}")
        gathered.unavailable += missing
        return gathered
    token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
    async with client_factory() as client:
        results = await asyncio.gather(
            *(_fetch(client, server, key, context, token) for key in missing), return_exceptions=True
        )
    for key, result in zip(missing, results, strict=True):
        if isinstance(result, BaseException):
            message = (
                str(result)
                if isinstance(result, DataUnavailableError)
                else f"{server}: {key} query failed ({type(result).__name__})"
            )
            if not isinstance(result, DataUnavailableError | httpx.HTTPError):
                raise result
            if key in REQUIRED:
                raise DataUnavailableError(message)
            gathered.unavailable.append(key)
        else:
            gathered.resources += result
            gathered.fetched.append(key)
    return gathered
