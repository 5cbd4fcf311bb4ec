"""The FastAPI app factory: sessions, security headers, access log without patient data, error pages, and the
routers."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from fbss import __version__
from fbss.errors import FbssError
from fbss.fhir.cds_hooks import CdsSettings, mount_cds
from fbss.fhir.smart import SmartSettings
from fbss.instruments import load_crisis_contacts, load_instruments
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import load_knowledge
from fbss.store.database import Database
from fbss.store.errors import DatabaseUnavailableError, StoreError
from fbss.store.web_sessions import WebSessions
from fbss.web import account, admin, auth, clinic, lookup, patient_portal, smart
from fbss.web.config import WebConfig
from fbss.web.limits import BodyLimit, BodyTooLargeError
from fbss.web.services import RedirectError, RefusedError, Services
from fbss.web.sessions import COOKIE, CookieData, Session, Signer
from fbss.web.templating import STATIC, render

log = logging.getLogger("fbss.web")
CDS_PREFIX = "/cds-services"
PORTAL_PREFIX = "/portal"

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
UNAVAILABLE = "The database is not available right now (it may be busy or full). Try again in a few minutes."


def _session(request: Request, services: Services) -> Session:
    """The browser's session: the signed cookie, and the live server-side session its key names, if any."""
    store = WebSessions(services.db, services.clock)
    raw = request.cookies.get(COOKIE)
    data = services.signer.loads(raw) if raw else None
    session = Session(store, data or CookieData(), changed=data is None)
    key = session.cookie.key
    if key is None:
        return session
    record = store.find(key)
    if record is None:
        session.forget()  # signed out, password changed, account disabled, link finished, or never existed
        return session
    config = services.config
    now = services.clock()
    idle = config.portal_idle_minutes if record.portal_link_id is not None else config.session_idle_minutes
    if (now - record.last_seen_at).total_seconds() > idle * 60 or (
        now - record.created_at
    ).total_seconds() > config.session_max_hours * 3600:
        try:
            store.end(record.id, "expired")
        except (StoreError, DatabaseUnavailableError) as exc:
            log.warning("expired session not ended (%s)", exc)
        session.forget()  # automatic sign-out after inactivity or the maximum age
        return session
    session.record = record
    store.touch(record)
    return session


def _route(request: Request) -> str:
    # The route template (/patients/{patient_id}), never the path: paths hold record numbers and tokens.
    return getattr(request.scope.get("route"), "path", "(no route)")


def _where(exc: BaseException) -> str:
    """Where an exception was raised (file and line), for the log: never its message, which may hold values."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb is not None else "?"


def _error_page(request: Request, status: int, message: str) -> Response:
    """An error page: JSON for EHR clients, the portal's own page (with the crisis contacts) for patients."""
    path = request.url.path
    if path.startswith(CDS_PREFIX):
        kind = {413: "too_large", 503: "unavailable"}.get(status, "http_error" if status < 500 else "server_error")
        return JSONResponse({"error": kind, "message": message}, status_code=status)
    if not hasattr(request.state, "session"):
        return Response(message, status_code=status, media_type="text/plain; charset=utf-8")
    if path.startswith(PORTAL_PREFIX):
        contacts = request.app.state.services.crisis
        return render(
            request,
            "portal/problem.html",
            status_code=status,
            kind="error",
            crisis_message=contacts.default_message,
            crisis_contacts=contacts.contacts,
        )
    return render(request, "error.html", status_code=status, message=message)


def _headers(request: Request, response: Response) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    if not request.url.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"


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
        crisis=load_crisis_contacts(config.crisis_contacts_file),
    )
    app = FastAPI(title="FBSS Navigator", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services

    @app.middleware("http")
    async def sessions_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        try:
            if not request.url.path.startswith(CDS_PREFIX):  # EHR clients: JWT-authenticated JSON, no session
                # The database is read (and perhaps written) here: in a worker thread, never on the event loop.
                request.state.session = await run_in_threadpool(_session, request, services)
                request.state.user = None
            response = await call_next(request)
        except BodyTooLargeError as exc:
            response = _error_page(request, 413, str(exc))
        except DatabaseUnavailableError as exc:
            log.error("%s %s: %s", request.method, _route(request), exc)
            response = _error_page(request, 503, UNAVAILABLE)
        except Exception as exc:  # the last line of defence: a page with the headers, never a traceback
            log.error("%s %s: unexpected %s at %s", request.method, _route(request), type(exc).__name__, _where(exc))
            response = _error_page(request, 500, "Something went wrong on our side; nothing was changed.")
        session: Session | None = getattr(request.state, "session", None)
        if session is not None and session.changed:
            response.set_cookie(
                COOKIE,
                services.signer.dumps(session.cookie),
                httponly=True,
                samesite="lax",
                secure=config.secure_cookies,
                path="/",
            )
        _headers(request, response)
        log.info(
            "%s %s %d %.1f ms",
            request.method,
            _route(request),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    @app.exception_handler(RedirectError)
    async def redirect(_request: Request, exc: RedirectError) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    @app.exception_handler(RefusedError)
    async def refused(request: Request, exc: RefusedError) -> Response:
        if exc.portal:
            contacts = services.crisis
            page = "portal/closed.html" if exc.kind == "closed" else "portal/problem.html"
            return render(
                request,
                page,
                status_code=exc.status_code,
                kind=exc.kind,
                crisis_message=contacts.default_message,
                crisis_contacts=contacts.contacts,
            )
        return render(request, "error.html", status_code=exc.status_code, message=exc.message)

    @app.exception_handler(DatabaseUnavailableError)
    async def unavailable(request: Request, exc: DatabaseUnavailableError) -> Response:
        # The message names the database; it goes to the log, not to the page.
        log.error("%s %s: %s", request.method, _route(request), exc)
        return _error_page(request, 503, UNAVAILABLE)

    @app.exception_handler(FbssError)
    async def project_error(request: Request, exc: FbssError) -> Response:
        # Messages name a field or a record number the user typed; they are shown, never logged.
        return _error_page(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
        if in_path:
            return _error_page(request, 404, "There is no such page.")
        return _error_page(request, 400, "The request has a value this page does not accept.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "There is no such page.", 405: "That action is not available here."}
        if request.url.path.startswith(CDS_PREFIX):  # EHR clients read JSON, as the standalone service answers
            return JSONResponse({"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code)
        return _error_page(request, exc.status_code, messages.get(exc.status_code, "The request could not be handled."))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        # browsers ask for it on pages without an icon link (a saved report, say); the app's icon is an SVG
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(lookup.router)  # before clinic's /patients/{patient_id}
    app.include_router(clinic.router)
    app.include_router(patient_portal.router)
    app.include_router(admin.router)
    app.include_router(smart.router)
    app.state.smart = smart_settings or SmartSettings.from_env()
    if cds is not None:
        mount_cds(app, cds, kb=kb)
    app.add_middleware(BodyLimit)
    return app
