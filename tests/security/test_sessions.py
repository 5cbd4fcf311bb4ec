"""Sessions: the signing key, sign-out, password change and disabling end a session for good, idle sessions end on
the server, odd cookies are ignored. Each test first reproduces an attack that worked before."""

from __future__ import annotations

import base64
import datetime as dt
import errno
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from fbss.cli import app as cli
from fbss.errors import FbssError
from fbss.knowledge.base import KnowledgeBase
from fbss.store.accounts import Accounts, Role
from fbss.store.database import Database
from fbss.store.models import WebSession
from fbss.web import config as web_config
from fbss.web.config import WebConfig, secret_key
from fbss.web.sessions import Signer
from tests.security.conftest import SECRET, client_for, patient_id
from tests.web.client import csrf_of, sign_in
from tests.web.server import ADMIN_PASSWORD, CLINICIAN_PASSWORD


def _forge(secret: str, data: dict[str, object]) -> str:
    """A cookie signed the way the app signs, with a key the attacker guessed."""
    key = hashlib.sha256(("fbss-session:" + secret).encode()).digest()
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    mac = base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    return f"{payload}.{mac}"


# -- the signing key (critical) -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n", "short-key\n", " " * 40])
def test_an_empty_or_short_key_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    monkeypatch.delenv("FBSS_SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text(content)
    with pytest.raises(FbssError, match=r"at least 32 are needed.*Delete the file"):
        secret_key(tmp_path)


def test_a_first_start_on_a_full_disk_leaves_no_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FBSS_SECRET_KEY", raising=False)

    def disk_full(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(web_config.os, "fsync", disk_full)
    with pytest.raises(FbssError, match="No space left on device"):
        secret_key(tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither a 0-byte key nor a temporary file
    monkeypatch.undo()
    monkeypatch.delenv("FBSS_SECRET_KEY", raising=False)
    key = secret_key(tmp_path)  # the next start, with room on the disk, makes a whole key
    assert len(key) >= 32 and (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secret_key(tmp_path) == key


def test_the_app_refuses_a_short_signing_key(database: Database, kb: KnowledgeBase) -> None:
    with pytest.raises(FbssError, match="at least 32"):
        WebConfig(secret_key="")
    with pytest.raises(FbssError, match="at least 32"):
        Signer("x" * 31)


def test_a_cookie_signed_with_an_empty_key_opens_nothing(database: Database, kb: KnowledgeBase) -> None:
    """Before: with an empty key file, a cookie naming the admin's user id, signed with "", opened every page."""
    client = client_for(database, kb)
    admin_id = Accounts(database, user="test").user_id_of("admin")
    for forged in (
        _forge("", {"c": "x", "u": admin_id, "p": None, "l": None, "i": 9e9, "s": 9e9}),  # the old cookie's shape
        _forge("", {"c": "x", "l": None, "k": "guessed-session-key"}),
        _forge(SECRET, {"c": "x", "l": None, "k": "guessed-session-key"}),  # even with the right key
    ):
        client.cookies.set("fbss_session", forged)
        for path in ("/admin/users", "/patients", f"/patients/{patient_id(database)}/assessment"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), path


# -- sign-out, password change, disabling (high) ------------------------------------------------------------------


def test_a_copied_cookie_reads_nothing_after_sign_out(database: Database, kb: KnowledgeBase) -> None:
    """Before: the cookie was stateless, so a copy taken before `POST /logout` kept reading records for 12 hours."""
    browser = sign_in(client_for(database, kb), "clinician", CLINICIAN_PASSWORD)
    stolen = browser.cookies.get("fbss_session")
    assert stolen
    token = csrf_of(browser, "/patients")
    assert browser.post("/logout", data={"csrf": token}).status_code == 303
    thief = client_for(database, kb)
    thief.cookies.set("fbss_session", stolen)
    response = thief.get(f"/patients/{patient_id(database)}/assessment")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert "Alex Moreno" not in response.text


def _user(database: Database, name: str, password: str, role: Role = Role.clinician) -> int:
    accounts = Accounts(database, user="test-setup")
    if accounts.user_id_of(name) is None:
        accounts.create_user(name, password, role)
    found = accounts.user_id_of(name)
    assert found is not None
    return found


def test_a_password_change_signs_out_every_other_browser(database: Database, kb: KnowledgeBase) -> None:
    _user(database, "pw-change", "first-password-1")
    mine = sign_in(client_for(database, kb), "pw-change", "first-password-1")
    other = sign_in(client_for(database, kb), "pw-change", "first-password-1")
    assert other.get("/patients").status_code == 200
    page = mine.get("/account/password")
    assert page.status_code == 200
    token = csrf_of(mine, "/account/password")
    wrong = mine.post(
        "/account/password",
        data={"csrf": token, "current": "not-it-at-all", "new": "second-password-2", "again": "second-password-2"},
    )
    assert wrong.status_code == 400 and "current password" in wrong.text
    changed = mine.post(
        "/account/password",
        data={"csrf": token, "current": "first-password-1", "new": "second-password-2", "again": "second-password-2"},
    )
    assert changed.status_code == 200 and "was changed" in changed.text
    assert mine.get("/patients").status_code == 200  # this browser stays signed in (with a new session)
    assert other.get("/patients").status_code == 303  # the other one is signed out
    fresh = client_for(database, kb)
    token = csrf_of(fresh)
    assert (
        fresh.post("/login", data={"csrf": token, "username": "pw-change", "password": "first-password-1"}).status_code
        == 401
    )
    sign_in(client_for(database, kb), "pw-change", "second-password-2")


def test_disabling_an_account_ends_its_sessions_at_once(database: Database, kb: KnowledgeBase) -> None:
    user_id = _user(database, "to-disable", "disable-me-123")
    victim = sign_in(client_for(database, kb), "to-disable", "disable-me-123")
    assert victim.get("/patients").status_code == 200
    admin = sign_in(client_for(database, kb), "admin", ADMIN_PASSWORD)
    token = csrf_of(admin, "/admin/users")
    assert admin.post(f"/admin/users/{user_id}/active", data={"csrf": token, "active": "false"}).status_code == 303
    assert victim.get("/patients").status_code == 303
    admin.post(f"/admin/users/{user_id}/active", data={"csrf": token, "active": "true"})
    assert victim.get("/patients").status_code == 303  # enabling again does not revive an ended session


def test_idle_and_old_sessions_end_on_the_server(database: Database, kb: KnowledgeBase) -> None:
    browser = sign_in(client_for(database, kb), "clinician", CLINICIAN_PASSWORD)
    assert browser.get("/patients").status_code == 200
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    with database.sessions() as session, session.begin():
        session.execute(update(WebSession).where(WebSession.ended_at.is_(None)).values(last_seen_at=long_ago))
    assert browser.get("/patients").status_code == 303
    browser = sign_in(client_for(database, kb), "clinician", CLINICIAN_PASSWORD)
    with database.sessions() as session, session.begin():
        session.execute(
            update(WebSession)
            .where(WebSession.ended_at.is_(None))
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=13))
        )
    assert browser.get("/patients").status_code == 303


@pytest.mark.parametrize(
    "cookie", ["fbss_session=é".encode("latin-1"), "fbss_session=ü.ä".encode(), b"fbss_session=" + b"A" * 5000 + b".x"]
)
def test_an_odd_session_cookie_is_ignored_not_a_server_error(anonymous: TestClient, cookie: bytes) -> None:
    """Before: a non-ASCII cookie gave 500 on every page."""
    response = anonymous.get("/login", headers={"cookie": cookie})  # type: ignore[dict-item]
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers


def test_fbss_user_password_changes_it_and_ends_the_sessions(
    database: Database, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    _user(database, "cli-pw", "cli-password-1")
    browser = sign_in(client_for(database, kb), "cli-pw", "cli-password-1")
    url = str(database.engine.url)
    result = CliRunner().invoke(
        cli, ["user", "password", "cli-pw", "--database", url, "--user", "ops"], input="cli-password-2\n"
    )
    assert result.exit_code == 0, result.output
    assert browser.get("/patients").status_code == 303
    sign_in(client_for(database, kb), "cli-pw", "cli-password-2")
    short = CliRunner().invoke(cli, ["user", "password", "cli-pw", "--database", url], input="short\n")
    assert short.exit_code != 0 and "at least 10" in str(short.exception)


def test_admins_cannot_create_clinician_accounts(admin: TestClient, database: Database) -> None:
    """Before: an admin (who sees no record) could make a clinician account and read every record with it."""
    token = csrf_of(admin, "/admin/users")
    response = admin.post(
        "/admin/users", data={"csrf": token, "username": "sneaky", "password": "sneaky-pass-1", "role": "clinician"}
    )
    assert response.status_code == 400 and "fbss user add" in response.text
    assert Accounts(database, user="test").user_id_of("sneaky") is None
    added = admin.post(
        "/admin/users", data={"csrf": token, "username": "second-admin", "password": "admin-pass-12", "role": "admin"}
    )
    assert added.status_code == 303


def test_fbss_user_add_creates_clinicians(database: Database) -> None:
    url = str(database.engine.url)
    result = CliRunner().invoke(
        cli, ["user", "add", "new-doc", "--role", "clinician", "--database", url], input="new-doc-password\n"
    )
    assert result.exit_code == 0, result.output
    assert Accounts(database, user="t").verify("new-doc", "new-doc-password") is not None
