"""The signed-in user's own account: changing the password (which signs out every other browser)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fbss.store.accounts import Accounts
from fbss.store.errors import StoreError
from fbss.store.passwords import MAX_PASSWORD, MIN_PASSWORD
from fbss.web.auth import client_address, record_failure, too_many
from fbss.web.services import CheckedForm, RefusedError, SignedInUser, services
from fbss.web.templating import render
from fbss.web.throttle import account_key

router = APIRouter(prefix="/account")


def _page(request: Request, status_code: int = 200, error: str | None = None, done: bool = False) -> HTMLResponse:
    return render(
        request,
        "account_password.html",
        status_code=status_code,
        error=error,
        done=done,
        minimum=MIN_PASSWORD,
        maximum=MAX_PASSWORD,
    )


@router.get("/password")
def password_page(request: Request, user: SignedInUser) -> HTMLResponse:
    return _page(request)


@router.post("/password")
def change_password(request: Request, form: CheckedForm, user: SignedInUser) -> Response:
    svc = services(request)
    current = str(form.get("current", ""))
    new, again = str(form.get("new", "")), str(form.get("again", ""))
    key, address = account_key(user.username), client_address(request)
    wait = svc.throttle.locked_for(key, address)
    if wait:
        return too_many(request, wait)
    if new != again:
        return _page(request, 400, "The two new passwords are not the same.")
    session = request.state.session
    accounts = Accounts(svc.db, user=user.username, clock=svc.clock)
    with svc.throttle.password_check() as free:
        if not free:
            raise RefusedError("Many people are signing in at this moment. Try again in a few seconds.", 503)
        try:
            accounts.change_password(user.id, current, new, keep_session=session.record.id)
        except StoreError as exc:
            if str(exc).startswith("current password"):
                locked = record_failure(svc, key, address, user.username)
                if locked:
                    return too_many(request, locked)
            return _page(request, 400, str(exc))
    session.renew(user_id=user.id, reason="password")  # a new session here; every other browser is signed out
    return _page(request, done=True)
