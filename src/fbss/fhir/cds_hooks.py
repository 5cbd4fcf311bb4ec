"""The CDS Hooks 2.0 service: discovery, the `patient-view` service and its feedback endpoint, as a FastAPI
APIRouter (`cds_router()`, for mounting in the web app) and a standalone app (`create_cds_app()`).

Configuration (environment variables, documented in docs/cds-hooks.md):
  FBSS_APP_BASE_URL            base URL of the FBSS Navigator web app, for card links (http://localhost:8000)
  FBSS_CDS_AUTH                `jwt` (default: every call needs a trusted client JWT) or `off` (demonstration only)
  FBSS_CDS_TRUSTED_ISSUERS     trusted issuers and their keys: inline JSON or a path to a JSON file
  FBSS_CDS_ISSUER + FBSS_CDS_JWKS_FILE | FBSS_CDS_PEM_FILE   one trusted issuer, the short way
  FBSS_CDS_AUDIENCE_BASE       the service's public base URL, when behind a proxy (default: the request URL)
  FBSS_CDS_FHIR_TIMEOUT        seconds for each query to the client's FHIR server (3)
  FBSS_CDS_FHIR_DEADLINE       seconds for all queries of one call together (10)
  FBSS_CDS_FHIR_MAX_MB         megabytes one FHIR response may have (20; all responses of a call: 2.5 times that)
  FBSS_CDS_ALLOWED_FHIR_SERVERS comma-separated base URLs the service may query (default: any public server)
  FBSS_CDS_ALLOW_PRIVATE_FHIR  `true` to let servers not on the allow list resolve to private addresses (false)
  FBSS_CDS_CORS_ORIGINS        comma-separated origins allowed by CORS (default: none)
  FBSS_CDS_RECORD_SYSTEM       the identifier system of the clinic's record numbers, for card links (default: the
                               Patient identifier typed MR)
  FBSS_CDS_REPLAY_DB           a SQLite file for the jti replay cache, shared by the worker processes of one host
                               (default: none, each process remembers the jti values it saw in memory)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from fbss import __version__, jsonlimits
from fbss.case.parse import describe_validation_error
from fbss.errors import CaseError
from fbss.fhir.cds_auth import (
    AuthError,
    ReplayStoreError,
    TokenVerifier,
    TrustedIssuer,
    issuers_from_env,
    replay_store,
)
from fbss.fhir.cds_cards import OVERRIDE_REASONS, CardContext, cards_for, record_number, short, smart_link
from fbss.fhir.cds_fetch import PREFETCH, ClientFactory, DataUnavailableError, PrefetchError, gather
from fbss.fhir.cds_models import (
    Card,
    CdsRequest,
    CdsResponse,
    CdsService,
    Discovery,
    ErrorBody,
    Feedback,
    FeedbackRequest,
    PatientViewContext,
    Source,
)
from fbss.fhir.importer import NotApplicableError, import_resources
from fbss.fhir.outbound import OutboundPolicy
from fbss.fhir.read_models import read_models
from fbss.jsonlimits import JsonLimitError
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import default_knowledge
from fbss.reasoning.assess import assess

log = logging.getLogger("fbss.cds")

SERVICE_ID = "fbss-patient-view"
MAX_BODY_BYTES = 10_000_000
SERVICES = {
    SERVICE_ID: CdsService(
        hook="patient-view",
        title="FBSS Navigator: persistent pain after spine surgery",
        description=(
            "For a patient with persistent spinal pain after surgery (PSPS type 2, failed back surgery syndrome): "
            "red flags to act on, questions to ask now, the ranked causes with the findings and sources behind "
            "each, and, when no red flag fired, the next steps of the care plan and the SCS advice. Needs the "
            "patient's spine operations as Procedures."
        ),
        id=SERVICE_ID,
        prefetch=PREFETCH,
        usageRequirements=(
            "Prefetch at least the patient and their Procedures, or give fhirServer and fhirAuthorization. "
            "Authenticate with a signed JWT (ES384 or RS384) from a trusted issuer."
        ),
    )
}


@dataclass(frozen=True)
class CdsSettings:
    app_base_url: str = "http://localhost:8000"
    auth_required: bool = True
    issuers: Mapping[str, TrustedIssuer] = field(default_factory=dict)
    audience_base: str | None = None
    fhir_timeout_seconds: float = 3.0
    fhir_deadline_seconds: float = 10.0
    fhir_max_response_mb: float = 20.0
    allowed_fhir_servers: tuple[str, ...] = ()
    allow_private_fhir: bool = False
    cors_origins: tuple[str, ...] = ()
    replay_db: str | None = None
    record_system: str | None = None  # the identifier system of the clinic's record numbers (else type MR)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CdsSettings:
        """Settings from the FBSS_* environment variables (see the module docstring)."""
        env = os.environ if env is None else env
        auth = env.get("FBSS_CDS_AUTH", "jwt").strip().lower()
        if auth not in ("jwt", "off"):
            raise CaseError(f"FBSS_CDS_AUTH: expected 'jwt' or 'off', got {auth!r}")

        def number(name: str, default: float, low: float, high: float) -> float:
            try:
                value = float(env.get(name, str(default)))
            except ValueError:
                raise CaseError(f"{name}: expected a number") from None
            if not low <= value <= high:
                raise CaseError(f"{name}: expected a number from {low:g} to {high:g}")
            return value

        private = env.get("FBSS_CDS_ALLOW_PRIVATE_FHIR", "false").strip().lower()
        if private not in ("true", "false"):
            raise CaseError(f"FBSS_CDS_ALLOW_PRIVATE_FHIR: expected true or false, got {private!r}")

        def listed(name: str) -> tuple[str, ...]:
            return tuple(x.strip().rstrip("/") for x in env.get(name, "").split(",") if x.strip())

        return cls(
            app_base_url=env.get("FBSS_APP_BASE_URL", cls.app_base_url),
            auth_required=auth == "jwt",
            issuers=issuers_from_env(env),
            audience_base=(env.get("FBSS_CDS_AUDIENCE_BASE") or "").rstrip("/") or None,
            fhir_timeout_seconds=number("FBSS_CDS_FHIR_TIMEOUT", 3.0, 0.1, 60.0),
            fhir_deadline_seconds=number("FBSS_CDS_FHIR_DEADLINE", 10.0, 0.5, 120.0),
            fhir_max_response_mb=number("FBSS_CDS_FHIR_MAX_MB", 20.0, 0.1, 500.0),
            allowed_fhir_servers=listed("FBSS_CDS_ALLOWED_FHIR_SERVERS"),
            allow_private_fhir=private == "true",
            cors_origins=listed("FBSS_CDS_CORS_ORIGINS"),
            replay_db=env.get("FBSS_CDS_REPLAY_DB", "").strip() or None,
            record_system=env.get("FBSS_CDS_RECORD_SYSTEM", "").strip() or None,
        )

    def outbound_policy(self) -> OutboundPolicy:
        """Where and how the service may query a client's FHIR server (see `fbss.fhir.outbound`)."""
        max_bytes = int(self.fhir_max_response_mb * 1_000_000)
        return OutboundPolicy.from_urls(
            self.allowed_fhir_servers,
            allow_private=self.allow_private_fhir,
            request_timeout=self.fhir_timeout_seconds,
            deadline=self.fhir_deadline_seconds,
            max_response_bytes=max_bytes,
            max_total_bytes=int(max_bytes * 2.5),
        )


class FeedbackSink(Protocol):
    """Where card feedback goes (memory by default; the store can provide a database-backed sink)."""

    def record(self, service_id: str, item: Feedback, card_issued: bool) -> bool:
        """Store one feedback entry; False if the same entry was already recorded (feedback is idempotent)."""
        ...


@dataclass(frozen=True)
class FeedbackRecord:
    service_id: str
    card: str
    outcome: str
    outcome_timestamp: dt.datetime
    card_issued: bool  # the card uuid was issued by this process
    override_reason: str | None
    user_comment: str | None
    accepted_suggestions: tuple[str, ...]


class MemoryFeedbackSink:
    """Feedback kept in memory (bounded), de-duplicated on service, card, outcome and timestamp."""

    def __init__(self, limit: int = 10_000) -> None:
        self.records: deque[FeedbackRecord] = deque(maxlen=limit)
        self._keys: set[tuple[str, str, str, str]] = set()
        self._lock = threading.Lock()

    def record(self, service_id: str, item: Feedback, card_issued: bool) -> bool:
        key = (service_id, item.card, item.outcome, item.outcomeTimestamp.isoformat())
        with self._lock:
            if key in self._keys:
                return False
            if len(self.records) == self.records.maxlen:
                old = self.records[0]
                self._keys.discard((old.service_id, old.card, old.outcome, old.outcome_timestamp.isoformat()))
            self._keys.add(key)
            reason = item.overrideReason
            self.records.append(
                FeedbackRecord(
                    service_id=service_id,
                    card=item.card,
                    outcome=item.outcome,
                    outcome_timestamp=item.outcomeTimestamp,
                    card_issued=card_issued,
                    override_reason=reason.reason.code if reason and reason.reason else None,
                    user_comment=reason.userComment if reason else None,
                    accepted_suggestions=tuple(s.id for s in item.acceptedSuggestions or ()),
                )
            )
            return True


class _IssuedCards:
    """Card uuids this process issued (bounded), so feedback can say whether it knows the card."""

    def __init__(self, limit: int = 50_000) -> None:
        self._cards: OrderedDict[str, str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, service_id: str, cards: list[Card]) -> None:
        with self._lock:
            for card in cards:
                if card.uuid:
                    self._cards[card.uuid] = service_id
            while len(self._cards) > self._limit:
                self._cards.popitem(last=False)

    def issued(self, service_id: str, card_uuid: str) -> bool:
        return self._cards.get(card_uuid) == service_id


class _HttpError(Exception):
    def __init__(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _error(status: int, error: str, message: str, headers: Mapping[str, str] | None = None) -> _HttpError:
    return _HttpError(status, ErrorBody(error=error, message=message).model_dump(), headers)


def operation_outcome(message: str, code: str = "invalid", expression: str | None = None) -> dict[str, Any]:
    """A FHIR OperationOutcome with one error issue."""
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _respond(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    media = "application/fhir+json" if body.get("resourceType") == "OperationOutcome" else "application/json"
    return JSONResponse(dict(body), status_code=status, headers=dict(headers or {}), media_type=media)


@dataclass
class CdsState:
    """What one mounted service holds: settings, knowledge, token checks, feedback and issued cards."""

    settings: CdsSettings
    kb: KnowledgeBase
    feedback: FeedbackSink
    client_factory: ClientFactory
    verifier: TokenVerifier
    policy: OutboundPolicy = field(default_factory=OutboundPolicy)
    issued: _IssuedCards = field(default_factory=_IssuedCards)
    today: Callable[[], dt.date] = dt.date.today

    def audience(self, request: Request) -> str:
        if self.settings.audience_base:
            return self.settings.audience_base + request.url.path.removeprefix(request.scope.get("root_path", ""))
        return str(request.url.replace(query=None, fragment=None))

    def authenticate(self, request: Request) -> None:
        if not self.settings.auth_required:
            return
        if not self.settings.issuers:
            raise _error(401, "unauthorized", "no trusted CDS client issuers are configured (FBSS_CDS_TRUSTED_ISSUERS)")
        try:
            self.verifier.verify(request.headers.get("authorization"), self.audience(request))
        except AuthError as exc:
            raise _error(401, "unauthorized", str(exc), {"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        except ReplayStoreError as exc:
            log.error("%s", exc)
            raise _error(503, "unavailable", "the token replay check is unavailable; try again shortly") from None


async def _json_body(request: Request) -> Any:
    """The body, read as it streams in and refused as soon as it passes the limit (never buffered whole first);
    JSON nested deeper than any FHIR data is refused before it is decoded."""
    declared = request.headers.get("content-length", "")
    too_large = _error(413, "too_large", f"request body larger than {MAX_BODY_BYTES // 1_000_000} MB")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_large
    if not raw.strip():
        raise _error(400, "invalid_request", "the request body is empty; send a JSON object")
    try:
        return jsonlimits.loads(raw)
    except JsonLimitError as exc:
        raise _error(400, "invalid_json", f"the request body is {exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _error(400, "invalid_json", f"the request body is not valid JSON ({exc})") from None


def _service(service_id: str) -> CdsService:
    service = SERVICES.get(service_id)
    if service is None:
        raise _error(404, "not_found", f"no CDS service '{service_id}'; see GET /cds-services")
    return service


PSPS_RULE = "psps_t2"  # mapping.yaml: post-laminectomy syndrome, ICD-10-CM M96.1, ICD-11 MG30.21


def _not_applicable_cards(exc: NotApplicableError, kb: KnowledgeBase, ctx: CardContext) -> list[Card]:
    if PSPS_RULE not in exc.recognised_ids:
        return []  # nothing names persistent pain after spine surgery (chronic pain alone does not): no card
    psps = [r for r in exc.recognised if r.startswith("Persistent spinal pain syndrome")]
    return [
        Card(
            summary=short("PSPS-T2 is recorded, but no spine operation was found: add it for an FBSS assessment"),
            detail=f"{exc}\n\nRecognised: {'; '.join(psps)}",
            indicator="info",
            source=Source(label=f"FBSS Navigator ({kb.version})", url=ctx.app_base_url),
            overrideReasons=OVERRIDE_REASONS,
            links=[smart_link(ctx)],
        )
    ]


async def _call(state: CdsState, service_id: str, request: Request) -> dict[str, Any]:
    service = _service(service_id)
    state.authenticate(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise _error(400, "invalid_request", "the request body must be a JSON object")
    try:
        call = CdsRequest.model_validate(body)
    except ValidationError as exc:
        raise _error(400, "invalid_request", describe_validation_error(exc)) from None
    if call.hook != service.hook:
        raise _error(
            400, "invalid_request", f"service {service_id} answers the '{service.hook}' hook, not '{call.hook}'"
        )
    try:
        context = PatientViewContext.model_validate(call.context)
    except ValidationError as exc:
        raise _error(400, "invalid_request", "context: " + describe_validation_error(exc)) from None
    try:
        gathered = await gather(call, context, client_factory=state.client_factory, policy=state.policy)
    except PrefetchError as exc:
        raise _HttpError(400, operation_outcome(str(exc), "invalid", f"prefetch.{exc.key}")) from None
    except DataUnavailableError as exc:
        raise _HttpError(412, operation_outcome(str(exc), "not-found")) from None
    patient = next(
        (r for _url, r in gathered.resources if isinstance(r, dict) and r.get("resourceType") == "Patient"), None
    )
    born = patient.get("birthDate") if isinstance(patient, dict) else None
    ctx = CardContext(
        patient_id=context.patientId,
        hook_instance=call.hookInstance,
        app_base_url=state.settings.app_base_url,
        unavailable=tuple(gathered.unavailable),
        record_number=record_number(patient, state.settings.record_system),
        birth_year=int(born[:4]) if isinstance(born, str) and born[:4].isdigit() and born[:4].isascii() else None,
    )
    try:
        result = import_resources(gathered.resources, assessment_date=state.today())
    except NotApplicableError as exc:
        cards = _not_applicable_cards(exc, state.kb, ctx)
    except CaseError as exc:
        cards = [
            Card(
                summary="FBSS Navigator could not assess this record: see the details",
                detail=f"The record could not be turned into a case: {exc}",
                indicator="info",
                source=Source(label=f"FBSS Navigator ({state.kb.version})", url=ctx.app_base_url),
            )
        ]
    else:
        assessment = assess(result.case, state.kb)
        cards = cards_for(assessment, result.report, state.kb, ctx)
    state.issued.add(service_id, cards)
    return CdsResponse(cards=cards).model_dump(mode="json", exclude_none=True)


async def _feedback(state: CdsState, service_id: str, request: Request) -> dict[str, Any]:
    _service(service_id)
    state.authenticate(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise _error(400, "invalid_request", "the request body must be a JSON object with a 'feedback' array")
    try:
        feedback = FeedbackRequest.model_validate(body)
    except ValidationError as exc:
        raise _error(400, "invalid_request", describe_validation_error(exc)) from None
    recorded = sum(
        state.feedback.record(service_id, item, state.issued.issued(service_id, item.card))
        for item in feedback.feedback
    )
    return {"recorded": recorded, "duplicates": len(feedback.feedback) - recorded}


def _default_client_factory(timeout: float) -> ClientFactory:
    def factory() -> httpx.AsyncClient:
        # No proxies from the environment (the checked address must be the one connected to); redirects are
        # followed by hand, each checked (fbss.fhir.outbound).
        return httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False)

    return factory


def cds_router(
    settings: CdsSettings | None = None,
    *,
    kb: KnowledgeBase | None = None,
    feedback_sink: FeedbackSink | None = None,
    client_factory: ClientFactory | None = None,
) -> APIRouter:
    """The CDS Hooks endpoints as an APIRouter; `router.cds_state` exposes the state (feedback sink, settings)."""
    settings = settings or CdsSettings.from_env()
    state = CdsState(
        settings=settings,
        kb=kb or default_knowledge(),
        feedback=feedback_sink or MemoryFeedbackSink(),
        client_factory=client_factory or _default_client_factory(settings.fhir_timeout_seconds),
        verifier=TokenVerifier(settings.issuers, replay=replay_store(settings.replay_db)),
        policy=settings.outbound_policy(),
    )
    read_models()  # the lean read models resources are validated with: built now, not during the first call
    router = APIRouter(tags=["CDS Hooks"])

    @router.get("/cds-services")
    async def discovery(request: Request) -> JSONResponse:
        try:
            state.authenticate(request)
        except _HttpError as exc:
            return _respond(exc.status, exc.body, exc.headers)
        return _respond(200, Discovery(services=list(SERVICES.values())).model_dump(mode="json", exclude_none=True))

    @router.post("/cds-services/{service_id}")
    async def call_service(service_id: str, request: Request) -> JSONResponse:
        try:
            return _respond(200, await _call(state, service_id, request))
        except _HttpError as exc:
            return _respond(exc.status, exc.body, exc.headers)

    @router.post("/cds-services/{service_id}/feedback")
    async def feedback(service_id: str, request: Request) -> JSONResponse:
        try:
            return _respond(200, await _feedback(state, service_id, request))
        except _HttpError as exc:
            return _respond(exc.status, exc.body, exc.headers)

    router.cds_state = state  # type: ignore[attr-defined]
    return router


def create_cds_app(
    settings: CdsSettings | None = None,
    *,
    kb: KnowledgeBase | None = None,
    feedback_sink: FeedbackSink | None = None,
    client_factory: ClientFactory | None = None,
) -> FastAPI:
    """A standalone FastAPI app serving only the CDS Hooks service."""
    settings = settings or CdsSettings.from_env()
    app = FastAPI(title="FBSS Navigator CDS Hooks service", version=__version__, docs_url=None, redoc_url=None)
    mount_cds(app, settings, kb=kb, feedback_sink=feedback_sink, client_factory=client_factory)
    if settings.auth_required and not settings.issuers:
        log.warning("FBSS_CDS_AUTH is 'jwt' but no trusted issuers are configured: every call will get 401")
    return app


def mount_cds(
    app: FastAPI,
    settings: CdsSettings,
    *,
    kb: KnowledgeBase | None = None,
    feedback_sink: FeedbackSink | None = None,
    client_factory: ClientFactory | None = None,
) -> None:
    """Add the CDS Hooks endpoints (and CORS for the configured origins) to an app; `app.state.cds` is their state."""
    router = cds_router(settings, kb=kb, feedback_sink=feedback_sink, client_factory=client_factory)
    app.include_router(router)
    app.state.cds = router.cds_state  # type: ignore[attr-defined]
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory fbss.fhir.cds_hooks:app_from_env`."""
    return create_cds_app(CdsSettings.from_env())
