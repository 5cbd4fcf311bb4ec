"""Web app settings from environment variables, with documented defaults (docs/web.md)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from fbss.errors import FbssError
from fbss.store.config import data_dir

SECRET_KEY_VARIABLE = "FBSS_SECRET_KEY"
SECURE_COOKIES_VARIABLE = "FBSS_SECURE_COOKIES"
DATA_DIR_VARIABLE = "FBSS_DATA_DIR"
CRISIS_CONTACTS_VARIABLE = "FBSS_CRISIS_CONTACTS"
SECRET_FILE = "secret_key"
MIN_SECRET = 32


def web_data_dir() -> Path:
    """`FBSS_DATA_DIR`, else the store's data directory (`$XDG_DATA_HOME/fbss`)."""
    given = os.environ.get(DATA_DIR_VARIABLE)
    return Path(given).expanduser() if given else data_dir()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise FbssError(f"{name}: expected true or false, got {value!r}")


def secret_key(directory: Path) -> str:
    """`FBSS_SECRET_KEY`, else a key generated once and kept (owner-readable only) in the data directory."""
    given = os.environ.get(SECRET_KEY_VARIABLE)
    if given:
        if len(given) < MIN_SECRET:
            raise FbssError(f"{SECRET_KEY_VARIABLE}: at least {MIN_SECRET} characters")
        return given
    path = directory / SECRET_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


@dataclass(frozen=True)
class WebConfig:
    """What the app needs beyond the database: the session signing key and cookie policy."""

    secret_key: str
    secure_cookies: bool = False  # set FBSS_SECURE_COOKIES=true when served over HTTPS
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    portal_idle_minutes: int = 60
    crisis_contacts_file: Path | None = None  # the clinic's crisis services (else the packaged message only)

    @classmethod
    def from_environment(cls, directory: Path | None = None) -> WebConfig:
        contacts = os.environ.get(CRISIS_CONTACTS_VARIABLE, "").strip()
        return cls(
            secret_key=secret_key(directory or web_data_dir()),
            secure_cookies=_flag(SECURE_COOKIES_VARIABLE, False),
            crisis_contacts_file=Path(contacts).expanduser() if contacts else None,
        )
