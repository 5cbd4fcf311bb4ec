"""The admin pages: user accounts and the audit log (admins see no patient records)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fbss.store.accounts import Accounts, Role, UserRecord
from fbss.store.errors import StoreError
from fbss.store.repository import Repository
from fbss.web.services import AdminUser, CheckedForm, services, text_fields
from fbss.web.templating import render

router = APIRouter(prefix="/admin")


def _accounts(request: Request, user: UserRecord) -> Accounts:
    svc = services(request)
    return Accounts(svc.db, user=user.username, clock=svc.clock)


# Admins see no patient record, so they cannot make an account that does: clinician accounts are created by the
# operator with `fbss user add NAME --role clinician` (separation of duties, see docs/security.md).
ADMIN_ROLES = [Role.admin]


@router.get("/users")
def users_page(request: Request, user: AdminUser) -> HTMLResponse:
    return render(
        request, "admin_users.html", users=_accounts(request, user).list_users(), error=None, form={}, roles=ADMIN_ROLES
    )


@router.post("/users")
def create_user(request: Request, form: CheckedForm, user: AdminUser) -> Response:
    values = text_fields(form)
    accounts = _accounts(request, user)
    try:
        role = Role(values.get("role", ""))
    except ValueError:
        role = None
    try:
        if role is None:
            raise StoreError("role: choose admin")
        if role not in ADMIN_ROLES:
            raise StoreError(
                "role: clinician accounts are created by the operator on the server: "
                "`fbss user add NAME --role clinician`"
            )
        accounts.create_user(
            values.get("username", "").strip().lower(),
            values.get("password", ""),
            role,
            display_name=values.get("display_name") or None,
        )
    except StoreError as exc:
        values.pop("password", None)
        return render(
            request,
            "admin_users.html",
            status_code=400,
            users=accounts.list_users(),
            error=str(exc),
            form=values,
            roles=ADMIN_ROLES,
        )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/active")
def set_active(request: Request, user_id: int, form: CheckedForm, user: AdminUser) -> Response:
    if user_id == user.id:
        raise StoreError("you cannot disable your own account")
    _accounts(request, user).set_active(user_id, form.get("active") == "true")
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/audit")
def audit_page(request: Request, user: AdminUser) -> HTMLResponse:
    svc = services(request)
    repo = Repository(svc.db, user=user.username, clock=svc.clock)
    check = repo.verify_audit()
    return render(
        request,
        "admin_audit.html",
        entries=list(reversed(repo.audit_entries(limit=200))),
        check=check,
        pending=svc.db.audit_trail.status(),
    )
