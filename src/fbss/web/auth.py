"""Signing in and out, the home page redirect and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fbss.reports.i18n import LANGUAGES
from fbss.store.accounts import Accounts, Role
from fbss.web.services import CheckedForm, services
from fbss.web.templating import render

router = APIRouter()


def _safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _home(role: Role) -> str:
    return "/admin/users" if role is Role.admin else "/patients"


@router.get("/")
def home(request: Request) -> Response:
    session = request.state.session
    if session.portal_link_id is not None and session.user_id is None:
        return RedirectResponse("/portal", status_code=303)
    if session.user_id is None:
        return RedirectResponse("/login", status_code=303)
    svc = services(request)
    user = Accounts(svc.db, user="session").get(session.user_id)
    return RedirectResponse(_home(user.role) if user else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next, ""), error=None, username="")


@router.post("/login")
def login(request: Request, form: CheckedForm) -> Response:
    svc = services(request)
    username = str(form.get("username", "")).strip().lower()
    password = str(form.get("password", ""))
    target = str(form.get("next", ""))
    user = None
    if username and password and len(username) <= 64 and len(password) <= 200:
        user = Accounts(svc.db, user=username if len(username) <= 100 else "anonymous", clock=svc.clock).authenticate(
            username, password
        )
    if user is None:
        return render(
            request,
            "login.html",
            status_code=401,
            next=_safe_next(target, ""),
            error="The user name or password is not right.",
            username=username,
        )
    request.state.session.renew(user_id=user.id)
    return RedirectResponse(_safe_next(target, _home(user.role)), status_code=303)


@router.post("/logout")
def logout(request: Request, form: CheckedForm) -> Response:
    session = request.state.session
    if session.user_id is not None:
        svc = services(request)
        user = Accounts(svc.db, user="session").get(session.user_id)
        if user is not None:
            Accounts(svc.db, user=user.username, clock=svc.clock).log_out(user.id)
    lang = session.lang
    session.renew()
    session.lang = lang
    return RedirectResponse("/login", status_code=303)


@router.get("/language/{lang}")
def choose_language(request: Request, lang: str, next: str | None = None) -> Response:
    """Switch the language of the pages (and the default language of handouts) for this browser."""
    if lang in LANGUAGES:
        request.state.session.lang = lang
        request.state.session.changed = True
    return RedirectResponse(_safe_next(next, "/"), status_code=303)
