"""Web app settings from environment variables, with documented defaults (docs/web.md)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fbss.errors import FbssError
from fbss.store.config import data_dir

SECRET_KEY_VARIABLE = "FBSS_SECRET_KEY"
SECURE_COOKIES_VARIABLE = "FBSS_SECURE_COOKIES"
DATA_DIR_VARIABLE = "FBSS_DATA_DIR"
PUBLIC_URL_VARIABLE = "FBSS_APP_BASE_URL"
CRISIS_CONTACTS_VARIABLE = "FBSS_CRISIS_CONTACTS"
SECRET_FILE = "secret_key"
MIN_SECRET = 32  # characters; the same bound as fbss.web.sessions.Signer


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


def _read_key(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise FbssError(f"{path}: cannot read the session signing key ({exc})") from None
    if len(key) < MIN_SECRET:
        raise FbssError(
            f"{path}: the session signing key is {'empty' if not key else f'only {len(key)} characters'}; at least "
            f"{MIN_SECRET} are needed (a first start on a full disk can leave such a file). Delete the file to "
            f"have a new key made at the next start (everyone is signed out), or set {SECRET_KEY_VARIABLE}"
        )
    return key


def _write_key(directory: Path, path: Path) -> str:
    """Write a new key whole or not at all: to a private temporary file first, then linked into place."""
    key = secrets.token_urlsafe(48)
    partial = directory / f".{SECRET_FILE}.{secrets.token_hex(8)}"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)  # atomic, and never replaces a key another process wrote first
        except FileExistsError:
            return _read_key(path)
    except OSError as exc:
        raise FbssError(
            f"{path}: cannot write a new session signing key ({exc.strerror}); free some disk space or set "
            f"{SECRET_KEY_VARIABLE}"
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return key


def secret_key(directory: Path) -> str:
    """`FBSS_SECRET_KEY`, else a key generated once and kept (owner-readable only) in the data directory.

    A key shorter than 32 characters is refused wherever it comes from: a cookie signed with an empty or short key
    could be forged."""
    given = os.environ.get(SECRET_KEY_VARIABLE)
    if given is not None:
        if len(given.strip()) < MIN_SECRET:
            raise FbssError(f"{SECRET_KEY_VARIABLE}: at least {MIN_SECRET} characters")
        return given.strip()
    path = directory / SECRET_FILE
    if path.exists() or path.is_symlink():
        return _read_key(path)
    return _write_key(directory, path)


@dataclass(frozen=True)
class WebConfig:
    """What the app needs beyond the database: the session signing key and cookie policy."""

    secret_key: str
    secure_cookies: bool = False  # set FBSS_SECURE_COOKIES=true when served over HTTPS
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    portal_idle_minutes: int = 60
    # The address patients and EHR cards reach the app at (FBSS_APP_BASE_URL); portal links are built on it, never
    # on the request's Host header. None: the address the request came to (for tests and embedding only).
    public_url: str | None = None

    def __post_init__(self) -> None:
        if len(self.secret_key) < MIN_SECRET:
            raise FbssError(f"session signing key: at least {MIN_SECRET} characters, got {len(self.secret_key)}")
        if self.public_url is not None:
            object.__setattr__(self, "public_url", public_url(self.public_url, PUBLIC_URL_VARIABLE))

    crisis_contacts_file: Path | None = None  # the clinic's crisis services (else the packaged message only)

    @classmethod
    def from_environment(cls, directory: Path | None = None) -> WebConfig:
        contacts = os.environ.get(CRISIS_CONTACTS_VARIABLE, "").strip()
        return cls(
            secret_key=secret_key(directory or web_data_dir()),
            secure_cookies=_flag(SECURE_COOKIES_VARIABLE, False),
            public_url=os.environ.get(PUBLIC_URL_VARIABLE) or None,
            crisis_contacts_file=Path(contacts).expanduser() if contacts else None,
        )


def public_url(text: str, name: str) -> str:
    """An http(s) origin with an optional path prefix, without user-info, query or fragment; no trailing slash."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise FbssError(f"{name}: expected an address such as https://fbss.example.org, got {text!r}")
    if parts.query or parts.fragment:
        raise FbssError(f"{name}: no query or fragment, got {text!r}")
    return text.strip().rstrip("/")
