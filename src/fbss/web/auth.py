"""Signing in and out (throttled, see `fbss.web.throttle`), the home page redirect and the language switch."""

from __future__ import annotations

import logging
import math
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fbss.reports.i18n import LANGUAGES
from fbss.store.accounts import USERNAME, Accounts, Role
from fbss.store.audit import Action
from fbss.store.errors import DatabaseUnavailableError, StoreError
from fbss.store.passwords import MAX_PASSWORD
from fbss.web.services import CheckedForm, RefusedError, Services, services
from fbss.web.templating import render
from fbss.web.throttle import account_key

router = APIRouter()
log = logging.getLogger("fbss.web")

# Who sign-in entries name in the audit log: never the typed user name, which is sometimes a password.
SIGN_IN_ACTOR = "sign-in"


def _safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _home(role: Role) -> str:
    return "/admin/users" if role is Role.admin else "/patients"


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a reverse proxy: the proxy's forwarded address, when
    uvicorn trusts the proxy; see docs/security.md)."""
    return request.client.host if request.client is not None else "unknown"


def too_many(request: Request, seconds: float) -> Response:
    minutes = max(1, math.ceil(seconds / 60))
    response = render(
        request,
        "error.html",
        status_code=429,
        message=f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
    )
    response.headers["Retry-After"] = str(math.ceil(seconds))
    return response


def record_failure(svc: Services, key: str, address: str, username: str) -> float:
    """Count a failed password check; audit the first of a series and each lockout. Returns the lockout begun."""
    failure = svc.throttle.failure(key, address)
    if not (failure.first or failure.locked_for):
        return 0.0
    accounts = Accounts(svc.db, user=SIGN_IN_ACTOR, clock=svc.clock)
    try:
        user_id = accounts.user_id_of(username) if USERNAME.fullmatch(username) else None
        if failure.locked_for:
            detail = f"failures={failure.account_failures} locked={int(failure.locked_for)}s scope={failure.scope}"
            accounts.record_sign_in(Action.login_locked, user_id, detail)
        else:
            accounts.record_sign_in(Action.login_failed, user_id, "failures=1")
    except (StoreError, DatabaseUnavailableError) as exc:
        log.error("sign-in failure not audited (%s)", type(exc).__name__)
    return failure.locked_for


@router.get("/")
def home(request: Request) -> Response:
    session = request.state.session
    if session.portal_link_id is not None:
        return RedirectResponse("/portal", status_code=303)
    user = session.user
    return RedirectResponse(_home(user.role) if user else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next, ""), error=None, username="")


@router.post("/login")
def login(request: Request, form: CheckedForm) -> Response:
    svc = services(request)
    username = str(form.get("username", "")).strip().lower()[:64]
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")), "")
    key, address = account_key(username), client_address(request)
    wait = svc.throttle.locked_for(key, address)
    if wait:
        return too_many(request, wait)
    user = None
    if username and password and len(password) <= MAX_PASSWORD:
        with svc.throttle.password_check() as free:
            if not free:
                raise RefusedError("Many people are signing in at this moment. Try again in a few seconds.", 503)
            user = Accounts(svc.db, user=SIGN_IN_ACTOR, clock=svc.clock).verify(username, password)
        if user is None:
            locked = record_failure(svc, key, address, username)
            if locked:
                return too_many(request, locked)
    if user is None:
        return render(
            request,
            "login.html",
            status_code=401,
            next=target,
            error="The user name or password is not right.",
            username=username,
        )
    failed_before = svc.throttle.success(key, address)
    Accounts(svc.db, user=user.username, clock=svc.clock).record_sign_in(
        Action.login, user.id, f"failed_before={failed_before}" if failed_before else None
    )
    request.state.session.renew(user_id=user.id, reason="signed_in")
    return RedirectResponse(target or _home(user.role), status_code=303)


@router.post("/logout")
def logout(request: Request, form: CheckedForm) -> Response:
    session = request.state.session
    user = session.user
    session.renew(reason="signed_out")  # the server-side session ends first: a copy of the cookie opens nothing
    if user is not None:
        svc = services(request)
        Accounts(svc.db, user=user.username, clock=svc.clock).log_out(user.id)
    return RedirectResponse("/login", status_code=303)


@router.get("/language/{lang}")
def choose_language(request: Request, lang: str, next: str | None = None) -> Response:
    """Switch the language of the pages (and the default language of handouts) for this browser."""
    if lang in LANGUAGES:
        request.state.session.lang = lang
    return RedirectResponse(_safe_next(next, "/"), status_code=303)
