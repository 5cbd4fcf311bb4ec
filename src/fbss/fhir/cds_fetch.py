"""Collect the FHIR data a CDS Hooks call needs: from `prefetch` where the client sent it, otherwise from the
client's `fhirServer` with its `fhirAuthorization` token, under the outbound policy (`fbss.fhir.outbound`: allow
list, no private addresses by default, a deadline and size limits). Data that cannot be had -> 412.
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
from fbss.fhir.outbound import (
    NOT_JSON,
    Budget,
    Location,
    OutboundFailedError,
    OutboundPolicy,
    OutboundRefusedError,
    get_json,
)

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
    client: httpx.AsyncClient,
    policy: OutboundPolicy,
    base: Location,
    key: str,
    context: PatientViewContext,
    token: str | None,
    budget: Budget,
) -> list[tuple[str | None, object]]:
    headers = {"Accept": "application/fhir+json, application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    server = base.origin
    url: str | None = f"{base.url()}/{render(PREFETCH[key], context)}"
    found: list[tuple[str | None, object]] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        status, body = await get_json(client, policy, base, url, headers, budget)
        if key == "patient" and status == 404:
            raise DataUnavailableError(f"{server}: Patient/{context.patientId} not found")
        if status >= 400:
            raise DataUnavailableError(f"{server}: {key} query answered HTTP {status}")
        if body is NOT_JSON:
            raise DataUnavailableError(f"{server}: {key} query did not return JSON")
        if key == "patient":
            return [(f"Patient/{context.patientId}", body)]
        if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
            raise DataUnavailableError(f"{server}: {key} query did not return a Bundle")
        found += _bundle_resources(key, body)
        links = body.get("link")
        url = next(
            (
                link["url"]
                for link in (links if isinstance(links, list) else [])
                if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str)
            ),
            None,
        )  # followed only if it stays under the server's base (checked by get_json)
    return found


def _failure(server: str, key: str, error: BaseException, policy: OutboundPolicy) -> str:
    """What went wrong, in terms that do not tell an attacker which internal port answered how."""
    if isinstance(error, DataUnavailableError | OutboundRefusedError | OutboundFailedError):
        return str(error)
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return f"{server}: {key} query did not finish within the {policy.deadline:g} s allowed"
    return f"{server}: {key} query failed (the server could not be reached or broke off)"


async def gather(
    request: CdsRequest,
    context: PatientViewContext,
    *,
    client_factory: ClientFactory,
    policy: OutboundPolicy,
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
    required = [k for k in missing if k in REQUIRED]
    if request.fhirServer is None:
        if required:
            raise DataUnavailableError(f"prefetch lacks {', '.join(required)} and no fhirServer was given")
        gathered.unavailable += missing
        return gathered
    try:
        base = policy.server(request.fhirServer)
    except OutboundRefusedError as exc:
        if required:
            raise DataUnavailableError(f"prefetch lacks {', '.join(required)} and {exc}") from None
        gathered.unavailable += missing
        return gathered
    token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
    budget = Budget(asyncio.get_running_loop().time() + policy.deadline, policy.max_total_bytes)
    async with client_factory() as client:
        results = await asyncio.gather(
            *(_fetch(client, policy, base, key, context, token, budget) for key in missing), return_exceptions=True
        )
    for key, result in zip(missing, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(
                result,
                DataUnavailableError | OutboundRefusedError | OutboundFailedError | TimeoutError | httpx.HTTPError,
            ):
                raise result
            if key in REQUIRED:
                raise DataUnavailableError(_failure(base.origin, key, result, policy))
            gathered.unavailable.append(key)
        else:
            gathered.resources += result
            gathered.fetched.append(key)
    return gathered
