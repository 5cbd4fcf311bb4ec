"""SMART App Launch 2.0, EHR launch, as the app: discovery, the authorization request with PKCE (S256) and state,
the token exchange, the granted scopes and patient context, and reading the chart through FHIR with them.

Every request to the EHR goes through `fbss.fhir.outbound.send`. The web routes are in `fbss.web.smart`.

Configuration (docs/smart.md):
  FBSS_SMART_CLIENTS   the EHRs allowed to launch the app: inline JSON or a path to a JSON file,
                       {"https://ehr.example.org/fhir": {"client_id": "fbss-navigator", "client_secret": "..."}}
                       (client_secret only for a confidential client registered with client_secret_basic)
  FBSS_APP_BASE_URL    the app's public address; the redirect URI is {base}/smart/callback
  FBSS_SMART_TIMEOUT   seconds for each request to the EHR (10)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from fbss.errors import FbssError
from fbss.fhir.outbound import send

READ_TYPES = (
    "Condition",
    "Procedure",
    "Observation",
    "MedicationRequest",
    "MedicationStatement",
    "AllergyIntolerance",
    "DiagnosticReport",
    "DocumentReference",
    "QuestionnaireResponse",
)
SCOPES = ("launch", "patient/Patient.r", *(f"patient/{kind}.rs" for kind in READ_TYPES))
MAX_PAGES = 20
MAX_DOCUMENT_BYTES = 1_000_000
FHIR_JSON = "application/fhir+json, application/json"


class SmartError(FbssError):
    """The launch cannot go on: the message says what the EHR or its configuration got wrong."""


@dataclass(frozen=True)
class SmartClient:
    """How this app is registered with one EHR."""

    iss: str  # the EHR's FHIR base URL
    client_id: str
    client_secret: str | None = None
    scope: str = " ".join(SCOPES)


@dataclass(frozen=True)
class SmartSettings:
    clients: Mapping[str, SmartClient] = field(default_factory=dict)
    app_base_url: str = "http://localhost:8000"
    timeout_seconds: float = 10.0

    @property
    def redirect_uri(self) -> str:
        return self.app_base_url.rstrip("/") + "/smart/callback"

    def client_for(self, iss: str) -> SmartClient:
        client = self.clients.get(iss.rstrip("/"))
        if client is None:
            raise SmartError(
                f"this app is not registered with the EHR at {iss!r}; an administrator adds it to FBSS_SMART_CLIENTS"
            )
        return client

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmartSettings:
        env = os.environ if env is None else env
        raw = env.get("FBSS_SMART_CLIENTS", "").strip()
        clients: dict[str, SmartClient] = {}
        if raw:
            text = raw if raw.startswith("{") else _read(Path(raw))
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SmartError(f"FBSS_SMART_CLIENTS: not valid JSON ({exc})") from None
            if not isinstance(data, dict):
                raise SmartError("FBSS_SMART_CLIENTS: expected an object of FHIR base URL -> {client_id, ...}")
            for iss, entry in data.items():
                if not isinstance(entry, dict) or not isinstance(entry.get("client_id"), str):
                    raise SmartError(f"FBSS_SMART_CLIENTS[{iss!r}]: needs a client_id")
                secret = entry.get("client_secret")
                clients[iss.rstrip("/")] = SmartClient(
                    iss.rstrip("/"),
                    entry["client_id"],
                    secret if isinstance(secret, str) else None,
                    str(entry.get("scope") or " ".join(SCOPES)),
                )
        try:
            timeout = float(env.get("FBSS_SMART_TIMEOUT", "10"))
        except ValueError:
            raise SmartError("FBSS_SMART_TIMEOUT: expected a number of seconds") from None
        return cls(clients, env.get("FBSS_APP_BASE_URL", cls.app_base_url), timeout)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SmartError(f"FBSS_SMART_CLIENTS: cannot read {path} ({exc.strerror})") from None


def s256(verifier: str) -> str:
    """The PKCE code challenge of a verifier (RFC 7636, S256): BASE64URL(SHA256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str


@dataclass(frozen=True)
class PendingLaunch:
    """What the app remembers between sending the browser to the EHR and its coming back."""

    state: str
    verifier: str
    iss: str
    token_endpoint: str
    user_id: int
    started: float


@dataclass(frozen=True)
class Grant:
    access_token: str
    patient: str
    scopes: frozenset[str]
    iss: str


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


async def discover(client: httpx.AsyncClient, iss: str) -> Endpoints:
    """The EHR's SMART configuration ({iss}/.well-known/smart-configuration), checked for EHR launch with PKCE."""
    url = iss.rstrip("/") + "/.well-known/smart-configuration"
    try:
        response = await send(client, "GET", url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise SmartError(f"{url}: the EHR did not answer ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise SmartError(f"{url}: answered HTTP {response.status_code}")
    try:
        config = response.json()
    except ValueError:
        raise SmartError(f"{url}: not JSON") from None
    if not isinstance(config, dict):
        raise SmartError(f"{url}: expected a JSON object")
    endpoints = [config.get("authorization_endpoint"), config.get("token_endpoint")]
    if not all(isinstance(e, str) and e.startswith(("https://", "http://")) for e in endpoints):
        raise SmartError(f"{url}: authorization_endpoint and token_endpoint are required")
    capabilities = config.get("capabilities") or []
    if "launch-ehr" not in capabilities:
        raise SmartError(f"{url}: the EHR does not declare the 'launch-ehr' capability")
    if "S256" not in (config.get("code_challenge_methods_supported") or []):
        raise SmartError(f"{url}: the EHR does not support PKCE with S256, which SMART App Launch 2.0 requires")
    return Endpoints(str(endpoints[0]), str(endpoints[1]))


def begin(
    settings: SmartSettings, smart: SmartClient, endpoints: Endpoints, launch: str, user_id: int, now: float
) -> tuple[str, PendingLaunch]:
    """The authorization URL to send the browser to, and what to remember until it comes back."""
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    query = {
        "response_type": "code",
        "client_id": smart.client_id,
        "redirect_uri": settings.redirect_uri,
        "launch": launch,
        "scope": smart.scope,
        "state": state,
        "aud": smart.iss,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in endpoints.authorize else "?"
    pending = PendingLaunch(state, verifier, smart.iss, endpoints.token, user_id, now)
    return endpoints.authorize + separator + urlencode(query), pending


async def exchange(client: httpx.AsyncClient, settings: SmartSettings, pending: PendingLaunch, code: str) -> Grant:
    """Trade the authorization code (and the PKCE verifier) for an access token with the patient in context."""
    smart = settings.client_for(pending.iss)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.redirect_uri,
        "code_verifier": pending.verifier,
    }
    auth = None
    if smart.client_secret is None:
        form["client_id"] = smart.client_id
    else:
        auth = httpx.BasicAuth(smart.client_id, smart.client_secret)
    try:
        response = await send(
            client, "POST", pending.token_endpoint, data=form, auth=auth, headers={"Accept": "application/json"}
        )
    except httpx.HTTPError as exc:
        raise SmartError(f"the EHR's token endpoint did not answer ({type(exc).__name__})") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        raise SmartError(f"the EHR refused the token request (HTTP {response.status_code}, {error or 'no reason'})")
    token, kind, patient = body.get("access_token"), str(body.get("token_type", "")), body.get("patient")
    if not isinstance(token, str) or kind.lower() != "bearer":
        raise SmartError("the EHR's token response has no bearer access_token")
    if not isinstance(patient, str) or not patient:
        raise SmartError("the EHR gave no patient in context: launch the app from a patient's chart")
    granted = str(body.get("scope") or "").split()
    return Grant(token, patient, frozenset(granted), pending.iss)


def readable(grant: Grant, kind: str) -> bool:
    """Whether the granted scopes let the app read (and, for search types, search) this resource type."""
    for scope in grant.scopes:
        context, _, rest = scope.partition("/")
        resource, _, access = rest.partition(".")
        if context not in ("patient", "user") or resource not in (kind, "*"):
            continue
        v1 = access in ("read", "*")  # SMART 1 scopes: read covers read and search
        v2 = bool(access) and set(access) <= set("cruds") and "r" in access
        if v1 or (v2 and (kind == "Patient" or "s" in access)):
            return True
    return False


@dataclass
class Chart:
    """What the EHR gave: the resources, and what could not be read (not granted, refused, too large)."""

    resources: list[tuple[str | None, object]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


async def _get(client: httpx.AsyncClient, url: str, token: str, accept: str = FHIR_JSON) -> httpx.Response:
    return await send(client, "GET", url, headers={"Accept": accept, "Authorization": f"Bearer {token}"})


async def _search(client: httpx.AsyncClient, grant: Grant, kind: str) -> list[tuple[str | None, object]]:
    base = grant.iss
    url: str | None = f"{base}/{kind}?patient={grant.patient}"
    found: list[tuple[str | None, object]] = []
    for _page in range(MAX_PAGES):
        if url is None:
            break
        response = await _get(client, url, grant.access_token)
        if response.status_code != 200:
            raise SmartError(f"{kind} search answered HTTP {response.status_code}")
        body = response.json()
        if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
            raise SmartError(f"{kind} search did not return a Bundle")
        for entry in body.get("entry", []):
            if isinstance(entry, dict) and (entry.get("search") or {}).get("mode") != "outcome":
                found.append((entry.get("fullUrl"), entry.get("resource")))
        url = next(
            (
                str(link["url"])
                for link in body.get("link", [])
                if isinstance(link, dict)
                and link.get("relation") == "next"
                and _same_origin(str(link.get("url")), base)
            ),
            None,
        )
    return found


Resources = list[tuple[str | None, object]]


async def _inline_documents(client: httpx.AsyncClient, grant: Grant, resources: Resources) -> None:
    """Fetch the text of documents given by URL on the same server, so the report reader can read them."""
    for _, resource in resources:
        if not isinstance(resource, dict) or resource.get("resourceType") != "DocumentReference":
            continue
        for content in resource.get("content", []):
            attachment = content.get("attachment") if isinstance(content, dict) else None
            if not isinstance(attachment, dict) or "data" in attachment or not attachment.get("url"):
                continue
            kind = str(attachment.get("contentType", "")).split(";")[0].strip()
            url = str(attachment["url"])
            url = url if "://" in url else f"{grant.iss}/{url.lstrip('/')}"
            if kind not in ("text/plain", "text/markdown") or not _same_origin(url, grant.iss):
                continue
            response = await _get(client, url, grant.access_token, accept=kind)
            if response.status_code == 200 and len(response.content) <= MAX_DOCUMENT_BYTES:
                attachment["data"] = base64.b64encode(response.content).decode("ascii")


async def read_chart(client: httpx.AsyncClient, grant: Grant) -> Chart:
    """The patient and every resource type the granted scopes allow, read through FHIR."""
    chart = Chart()
    if not readable(grant, "Patient"):
        raise SmartError("the EHR did not grant patient/Patient.r: the app cannot tell whose chart it reads")
    response = await _get(client, f"{grant.iss}/Patient/{grant.patient}", grant.access_token)
    if response.status_code != 200:
        raise SmartError(f"Patient/{grant.patient} answered HTTP {response.status_code}")
    chart.resources.append((f"{grant.iss}/Patient/{grant.patient}", response.json()))
    for kind in READ_TYPES:
        if not readable(grant, kind):
            chart.missing.append(f"{kind}: not granted")
            continue
        try:
            chart.resources += await _search(client, grant, kind)
        except (SmartError, ValueError) as exc:
            chart.missing.append(f"{kind}: {exc}")
    await _inline_documents(client, grant, chart.resources)
    return chart


def patient_identity(patient: Any) -> tuple[str, str | None, int | None]:
    """The record number (the first identifier, else the FHIR id), a display name and the birth year."""
    identifiers = [i for i in patient.get("identifier", []) if isinstance(i, dict) and i.get("value")]
    number = str(identifiers[0]["value"]) if identifiers else str(patient.get("id") or "ehr-patient")
    names = [n for n in patient.get("name", []) if isinstance(n, dict)]
    display = None
    if names:
        name = names[0]
        display = name.get("text") or " ".join([*name.get("given", []), name.get("family", "")]).strip() or None
    birth = str(patient.get("birthDate", ""))[:4]
    return number[:64], display, int(birth) if birth.isdigit() else None
