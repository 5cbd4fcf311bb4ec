"""Where the database lives: `FBSS_DATABASE_URL`, else an SQLite file in the user's data directory."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from fbss.store.errors import StoreError

DATABASE_URL_VARIABLE = "FBSS_DATABASE_URL"
USER_VARIABLE = "FBSS_USER"


def data_dir() -> Path:
    """`$XDG_DATA_HOME/fbss`, else `~/.local/share/fbss`: the same place whatever the working directory."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fbss"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'fbss.sqlite3'}"


def database_url(explicit: str | None = None) -> URL:
    """The URL to use: an explicit one, else `FBSS_DATABASE_URL`, else the default SQLite file."""
    text = explicit or os.environ.get(DATABASE_URL_VARIABLE) or default_database_url()
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError(
            f"{DATABASE_URL_VARIABLE}: not a database URL; expected e.g. 'sqlite:///path/fbss.sqlite3' "
            "or 'postgresql+psycopg://user@host/dbname'"
        ) from None
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"{DATABASE_URL_VARIABLE}: only SQLite and PostgreSQL are supported, got '{url.drivername}'")
    return url


def shown(url: URL) -> str:
    """The URL with any password hidden, for messages."""
    return url.render_as_string(hide_password=True)


def current_user(explicit: str | None = None) -> str:
    """Who is acting, for the audit log: `--user`, else `FBSS_USER`, else the operating-system user."""
    name = explicit or os.environ.get(USER_VARIABLE)
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    name = name.strip()
    if not name or len(name) > 100 or any(ch in name for ch in "\r\n\t"):
        raise StoreError("--user: give a user name of 1 to 100 characters on one line")
    return name
