"""Signed session cookies (HMAC-SHA256 with the secret key) and the CSRF synchronizer token they carry.

The cookie holds ids only (the user's or the portal link's), the CSRF token, the language and two times; never
patient data. It is HttpOnly, SameSite=Lax, and Secure when configured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

COOKIE = "fbss_session"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Session:
    """One browser's session: who (user id or portal link id), CSRF token, language, issue and last-seen times."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    user_id: int | None = None
    portal_link_id: int | None = None
    lang: str | None = None
    issued: float = field(default_factory=time.time)
    seen: float = field(default_factory=time.time)
    changed: bool = False

    def to_data(self) -> dict[str, Any]:
        return {
            "c": self.csrf,
            "u": self.user_id,
            "p": self.portal_link_id,
            "l": self.lang,
            "i": self.issued,
            "s": self.seen,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Session:
        return cls(
            csrf=str(data["c"]),
            user_id=int(data["u"]) if data.get("u") is not None else None,
            portal_link_id=int(data["p"]) if data.get("p") is not None else None,
            lang=str(data["l"]) if data.get("l") else None,
            issued=float(data["i"]),
            seen=float(data["s"]),
        )

    def renew(self, *, user_id: int | None = None, portal_link_id: int | None = None) -> None:
        """A new identity gets a new CSRF token and issue time (no session fixation)."""
        self.csrf = secrets.token_urlsafe(32)
        self.user_id, self.portal_link_id = user_id, portal_link_id
        self.issued = self.seen = time.time()
        self.changed = True

    def check_csrf(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class Signer:
    """Sign and verify cookie values with HMAC-SHA256; a value signed under another key is refused."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("fbss-session:" + secret).encode()).digest()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def dumps(self, session: Session) -> str:
        payload = _b64(json.dumps(session.to_data(), separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def loads(self, value: str) -> Session | None:
        payload, _, mac = value.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            return Session.from_data(data) if isinstance(data, dict) else None
        except (ValueError, KeyError, TypeError):
            return None
