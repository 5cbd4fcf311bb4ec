"""The FastAPI app factory: sessions, security headers, access log without patient data, and the routers."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from fbss import __version__
from fbss.errors import FbssError
from fbss.fhir.cds_hooks import CdsSettings, mount_cds
from fbss.fhir.smart import SmartSettings
from fbss.instruments import load_crisis_contacts, load_instruments
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import load_knowledge
from fbss.store.database import Database
from fbss.web import admin, auth, clinic, patient_portal, smart
from fbss.web.config import WebConfig
from fbss.web.services import RedirectError, RefusedError, Services
from fbss.web.sessions import COOKIE, Session, Signer
from fbss.web.templating import STATIC, render

log = logging.getLogger("fbss.web")
CDS_PREFIX = "/cds-services"

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _session(request: Request, services: Services) -> Session:
    raw = request.cookies.get(COOKIE)
    session = services.signer.loads(raw) if raw else None
    now = time.time()
    config = services.config
    if session is not None:
        idle = (config.portal_idle_minutes if session.portal_link_id else config.session_idle_minutes) * 60
        if now - session.seen > idle or now - session.issued > config.session_max_hours * 3600:
            lang = session.lang
            session = Session(lang=lang, changed=True)  # automatic sign-out after inactivity
    if session is None:
        session = Session(changed=True)
    return session


def create_app(
    db: Database,
    kb: KnowledgeBase | None = None,
    config: WebConfig | None = None,
    *,
    cds: CdsSettings | None = None,
    smart_settings: SmartSettings | None = None,
) -> FastAPI:
    """The web app on an already migrated database; with `cds` settings, the CDS Hooks service is mounted beside it
    at /cds-services (it also runs on its own: `fbss cds serve`)."""
    db.require_current_schema()
    config = config or WebConfig.from_environment()
    kb = kb or load_knowledge()
    services = Services(
        db=db,
        kb=kb,
        instruments=load_instruments(),
        config=config,
        signer=Signer(config.secret_key),
    )
    app = FastAPI(title="FBSS Navigator", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services

    @app.middleware("http")
    async def sessions_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith(CDS_PREFIX):
            return await call_next(request)  # EHR clients: JWT-authenticated JSON, no browser session
        started = time.perf_counter()
        session = _session(request, services)
        request.state.session = session
        request.state.user = None
        response = await call_next(request)
        if session.changed or session.user_id is not None or session.portal_link_id is not None:
            session.seen = time.time()
            response.set_cookie(
                COOKIE,
                services.signer.dumps(session),
                httponly=True,
                samesite="lax",
                secure=config.secure_cookies,
                path="/",
            )
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        # The route template (/patients/{identifier}), never the path: paths hold record numbers and tokens.
        route = request.scope.get("route")
        template = getattr(route, "path", "(no route)")
        log.info(
            "%s %s %d %.1f ms", request.method, template, response.status_code, (time.perf_counter() - started) * 1000
        )
        return response

    @app.exception_handler(RedirectError)
    async def redirect(_request: Request, exc: RedirectError) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    @app.exception_handler(RefusedError)
    async def refused(request: Request, exc: RefusedError) -> Response:
        if exc.portal:
            contacts = load_crisis_contacts()
            return render(
                request,
                "portal/closed.html",
                status_code=exc.status_code,
                crisis_message=contacts.default_message,
                crisis_contacts=contacts.contacts,
            )
        return render(request, "error.html", status_code=exc.status_code, message=exc.message)

    @app.exception_handler(FbssError)
    async def project_error(request: Request, exc: FbssError) -> Response:
        # Messages name a field or a record number the user typed; they are shown, never logged.
        return render(request, "error.html", status_code=400, message=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(CDS_PREFIX):  # EHR clients read JSON, as the standalone service answers
            return JSONResponse({"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code)
        messages = {404: "There is no such page.", 405: "That action is not available here."}
        message = messages.get(exc.status_code, "The request could not be handled.")
        return render(request, "error.html", status_code=exc.status_code, message=message)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    app.include_router(clinic.router)
    app.include_router(patient_portal.router)
    app.include_router(admin.router)
    app.include_router(smart.router)
    app.state.smart = smart_settings or SmartSettings.from_env()
    if cds is not None:
        mount_cds(app, cds, kb=kb)
    return app
