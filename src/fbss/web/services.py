"""What every request needs (database, knowledge base, instruments, settings) and the access checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from fbss.instruments import InstrumentCatalogue
from fbss.instruments.models import CrisisContacts
from fbss.knowledge.base import KnowledgeBase
from fbss.store.accounts import Role, UserRecord
from fbss.store.database import Database
from fbss.store.portal import Portal, PortalLinkRecord
from fbss.store.repository import Repository, utc_now
from fbss.web.config import WebConfig
from fbss.web.sessions import Signer
from fbss.web.throttle import SignInThrottle


@dataclass
class Services:
    db: Database
    kb: KnowledgeBase
    instruments: InstrumentCatalogue
    config: WebConfig
    signer: Signer
    crisis: CrisisContacts
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    throttle: SignInThrottle = field(default_factory=SignInThrottle)

    def today(self) -> dt.date:
        return self.clock().date()


class RedirectError(Exception):
    """Stop handling the request and send the browser elsewhere (e.g. to sign in)."""

    def __init__(self, url: str) -> None:
        self.url = url


class RefusedError(Exception):
    """The request is not allowed (wrong role, bad CSRF token, used portal link): a 403 page, no data."""

    def __init__(self, message: str, status_code: int = 403, *, portal: bool = False, kind: str = "closed") -> None:
        self.message = message
        self.status_code = status_code
        self.portal = portal  # shown as the portal's own page, with the crisis contacts
        self.kind = kind  # which portal page: closed (expired, used, withdrawn) or elsewhere (another browser)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def signed_in(request: Request) -> UserRecord:
    """The signed-in user, whatever the role; anyone else is sent to sign in."""
    user: UserRecord | None = request.state.session.user
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise RedirectError(f"/login?next={quote(target, safe='')}" if request.method == "GET" else "/login")
    request.state.user = user
    return user


def _signed_in(request: Request, role: Role) -> UserRecord:
    user = signed_in(request)
    if user.role is not role:
        raise RefusedError(f"This page is for the {role.value} role.")
    return user


def clinician(request: Request) -> UserRecord:
    """The signed-in clinician; anyone else is sent to sign in or refused."""
    return _signed_in(request, Role.clinician)


def admin(request: Request) -> UserRecord:
    return _signed_in(request, Role.admin)


def repository(request: Request, user: Annotated[UserRecord, Depends(clinician)]) -> Repository:
    svc = services(request)
    return Repository(svc.db, user=user.username, clock=svc.clock)


def portal_store(request: Request, user: Annotated[UserRecord, Depends(clinician)]) -> Portal:
    svc = services(request)
    return Portal(svc.db, user=user.username, clock=svc.clock)


def portal_link(request: Request) -> PortalLinkRecord:
    """The portal link this browser opened; nothing else of the record is reachable through it."""
    svc = services(request)
    session = request.state.session
    link_id = session.portal_link_id
    link = Portal(svc.db, user="portal", clock=svc.clock).link(link_id) if link_id is not None else None
    if link is None:
        raise RefusedError("This questionnaire link has expired, was already used, or was withdrawn.", portal=True)
    if link.claimed_session_id not in (None, session.record.id):
        raise RefusedError("This link is being filled in another browser.", 409, portal=True, kind="elsewhere")
    return link


MAX_FORM_FIELDS = 2000  # the case form has about 400 controls
MAX_FIELD_BYTES = 1_000_000  # the longest field is a pasted report (100,000 characters)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (synchronizer token pattern). No files; at
    most 2,000 fields (a larger form is refused by the form parser with 400)."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES)
    token = form.get("csrf")
    if not isinstance(token, str) or not request.state.session.check_csrf(token):
        raise RefusedError(
            "The form has expired or did not come from this site. Go back, reload the page and try again."
        )
    return form


def text_fields(form: FormData) -> dict[str, str]:
    """Form values as strings (file fields are ignored)."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


SignedInUser = Annotated[UserRecord, Depends(signed_in)]
ClinicianUser = Annotated[UserRecord, Depends(clinician)]
AdminUser = Annotated[UserRecord, Depends(admin)]
Repo = Annotated[Repository, Depends(repository)]
PortalStore = Annotated[Portal, Depends(portal_store)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
OpenLink = Annotated[PortalLinkRecord, Depends(portal_link)]
