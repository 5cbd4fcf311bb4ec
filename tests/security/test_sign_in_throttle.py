"""Sign-in throttling: repeated failures lock the (account, address) pair and the address, never the owner for
good; failures are aggregated in the audit log without the typed name; password checks run one at a time."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fbss.knowledge.base import KnowledgeBase
from fbss.store import passwords
from fbss.store.database import Database
from fbss.store.models import AuditEntry
from fbss.web.app import create_app
from fbss.web.config import WebConfig
from fbss.web.throttle import ACCOUNT_LIMIT, MAX_LOCK_SECONDS, PAIR_LIMIT, SignInThrottle, account_key
from tests.security.conftest import SECRET
from tests.web.client import csrf_of
from tests.web.server import CLINICIAN_PASSWORD


def _client(app: object, address: str) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 40000))  # type: ignore[arg-type]


def _try(client: TestClient, username: str, password: str) -> int:
    token = csrf_of(client)
    return client.post("/login", data={"csrf": token, "username": username, "password": password}).status_code


def _last_id(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0


def test_repeated_failures_lock_the_pair_and_the_audit_log_gets_a_summary(
    database: Database, kb: KnowledgeBase
) -> None:
    """Before: no limit, and every failed attempt wrote an audit row holding the typed user name."""
    app = create_app(database, kb, WebConfig(secret_key=SECRET))
    attacker, owner = _client(app, "203.0.113.7"), _client(app, "198.51.100.2")
    before = _last_id(database)
    codes = [_try(attacker, "clinician", f"guess-{n:04d}-pw") for n in range(PAIR_LIMIT + 15)]
    assert codes[: PAIR_LIMIT - 1] == [401] * (PAIR_LIMIT - 1)
    assert codes[PAIR_LIMIT - 1] == 429 and set(codes[PAIR_LIMIT:]) == {429}
    locked = attacker.post(
        "/login", data={"csrf": csrf_of(attacker), "username": "clinician", "password": CLINICIAN_PASSWORD}
    )
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0  # even the right password waits
    assert _try(owner, "clinician", CLINICIAN_PASSWORD) == 303  # the owner, elsewhere, is not locked out
    _try(attacker, "Secret-Typed-As-Name-99", "whatever-password")  # a password typed in the name field
    with database.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)).all()
    sign_ins = [(r.action, r.detail) for r in rows if r.entity == "user"]
    assert ("login_failed", "failures=1") in sign_ins
    assert any(action == "login_locked" and detail and "scope=pair" in detail for action, detail in sign_ins)
    assert len([a for a, _ in sign_ins if a.startswith("login_")]) <= 4  # not one row per attempt
    assert all(r.who in ("sign-in", "clinician") for r in rows if r.action.startswith("login"))
    assert not any("secret-typed-as-name" in (r.who + (r.entity_id or "") + (r.detail or "")).lower() for r in rows)


def test_a_lockout_is_bounded_and_spares_the_owners_known_addresses() -> None:
    now = [0.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    owner = account_key("clinician")
    throttle.success(owner, "10.0.0.5")  # the owner's usual workstation
    for n in range(ACCOUNT_LIMIT * 3):  # a distributed attack: a new address every two attempts
        throttle.failure(owner, f"192.0.2.{n // 2}")
    assert throttle.locked_for(owner, "192.0.2.250") > 0  # a new address is refused while the account is locked
    assert throttle.locked_for(owner, "10.0.0.5") == 0  # the owner's own address is not
    pair = ("10.9.9.9",)
    for _ in range(PAIR_LIMIT * 10):  # one address hammering: the lock doubles, but never beyond its bound
        if throttle.locked_for(owner, pair[0]) == 0:
            throttle.failure(owner, pair[0])
        else:
            now[0] += throttle.locked_for(owner, pair[0])
    assert throttle.locked_for(owner, pair[0]) <= MAX_LOCK_SECONDS
    now[0] += MAX_LOCK_SECONDS + 1
    assert throttle.locked_for(owner, pair[0]) == 0


def test_password_checks_run_one_at_a_time(
    database: Database, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: 32 concurrent sign-in loops ran 32 scrypt checks at once and other users' pages took seconds."""
    running, peak, lock = [0], [0], threading.Lock()
    real = passwords.verify_password

    def counted(password: str, stored: str) -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.01)
            return real(password, stored)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr("fbss.store.accounts.verify_password", counted)
    app = create_app(database, kb, WebConfig(secret_key=SECRET))

    def loop(n: int) -> None:
        client = _client(app, f"192.0.2.{n}")
        for _ in range(3):
            _try(client, "nobody-here", "wrong-password")

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 1
