"""Browser sessions: a signed cookie (HMAC-SHA256 with the secret key) holding the CSRF synchronizer token, the
language and, once someone has signed in or opened a portal link, the random key of a server-side session.

Who the browser is (a user or a portal link) is only ever read from the server-side session (`fbss.store.web_sessions`),
which sign-out, a password change, a disabled account or a finished portal link end for good. The cookie holds no
patient data. It is HttpOnly, SameSite=Lax, and Secure when configured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from fbss.errors import FbssError
from fbss.store.accounts import UserRecord
from fbss.store.web_sessions import SessionRecord, WebSessions

COOKIE = "fbss_session"
MIN_SECRET = 32
MAX_COOKIE = 1024  # a genuine cookie is about 200 characters


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class CookieData:
    """What the signed cookie carries."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    lang: str | None = None
    key: str | None = None  # the server-side session's key, once signed in or in the portal

    def to_data(self) -> dict[str, Any]:
        return {"c": self.csrf, "l": self.lang, "k": self.key}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CookieData:
        csrf, lang, key = data.get("c"), data.get("l"), data.get("k")
        if not isinstance(csrf, str) or not csrf:
            raise ValueError("no CSRF token")
        return cls(
            csrf=csrf,
            lang=lang if isinstance(lang, str) and lang else None,
            key=key if isinstance(key, str) and key else None,
        )


@dataclass
class Session:
    """One browser's session as a request sees it: the cookie's data and the server-side session behind it."""

    store: WebSessions
    cookie: CookieData = field(default_factory=CookieData)
    record: SessionRecord | None = None
    changed: bool = False

    @property
    def csrf(self) -> str:
        return self.cookie.csrf

    @property
    def lang(self) -> str | None:
        return self.cookie.lang

    @lang.setter
    def lang(self, value: str | None) -> None:
        self.cookie.lang = value
        self.changed = True

    @property
    def user(self) -> UserRecord | None:
        return self.record.user if self.record is not None else None

    @property
    def user_id(self) -> int | None:
        return self.record.user.id if self.record is not None and self.record.user is not None else None

    @property
    def portal_link_id(self) -> int | None:
        return self.record.portal_link_id if self.record is not None else None

    def renew(self, *, user_id: int | None = None, portal_link_id: int | None = None, reason: str = "replaced") -> None:
        """A new identity gets a new server-side session, key and CSRF token (no session fixation); the
        browser's previous session ends. Without an identity, the browser is signed out."""
        previous = self.record.id if self.record is not None else None
        if user_id is not None or portal_link_id is not None:
            key, record = self.store.start(
                user_id=user_id, portal_link_id=portal_link_id, replacing=previous, reason=reason
            )
            self.cookie.key, self.record = key, record
        else:
            if previous is not None:
                self.store.end(previous, reason)
            self.cookie.key, self.record = None, None
        self.cookie.csrf = secrets.token_urlsafe(32)
        self.changed = True

    def forget(self) -> None:
        """The server-side session is gone (ended, expired, unknown): the browser is anonymous again."""
        self.cookie.key, self.record = None, None
        self.changed = True

    def check_csrf(self, token: str | None) -> bool:
        return token is not None and token.isascii() and hmac.compare_digest(token.encode(), self.csrf.encode())


class Signer:
    """Sign and verify cookie values with HMAC-SHA256; a value signed under another key is refused."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET:
            raise FbssError(f"session signing key: at least {MIN_SECRET} characters, got {len(secret)}")
        self._key = hashlib.sha256(("fbss-session:" + secret).encode()).digest()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def dumps(self, data: CookieData) -> str:
        payload = _b64(json.dumps(data.to_data(), separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def loads(self, value: str) -> CookieData | None:
        """The cookie's data, or None for anything not signed by this key (garbled, foreign, non-ASCII, huge)."""
        if not value or len(value) > MAX_COOKIE or not value.isascii():
            return None
        payload, _, mac = value.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            return CookieData.from_data(data) if isinstance(data, dict) else None
        except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
            return None
