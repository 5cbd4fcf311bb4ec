"""`fbss serve`: migrate the database, optionally seed the demo, print how to sign in, run uvicorn."""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import socket
import sys
import threading

from fbss.errors import FbssError
from fbss.fhir.cds_hooks import CdsSettings
from fbss.knowledge.loader import load_knowledge
from fbss.reports.documents import warm_up
from fbss.store.accounts import Accounts, Role
from fbss.store.database import Database
from fbss.web.config import WebConfig, web_data_dir

ADMIN_PASSWORD_VARIABLE = "FBSS_ADMIN_PASSWORD"


def configure_logging() -> None:
    """Our access log (route templates, status, time) on stderr; uvicorn's own access log is off because it
    prints paths, which can hold record numbers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("fbss.web")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _first_admin(db: Database) -> str | None:
    """On a database without accounts, create `admin` (FBSS_ADMIN_PASSWORD or a random password, printed)."""
    accounts = Accounts(db, user="fbss-serve")
    with db.sessions() as session:
        from sqlalchemy import func, select

        from fbss.store.models import User

        count = session.scalar(select(func.count()).select_from(User)) or 0
    if count:
        return None
    password = os.environ.get(ADMIN_PASSWORD_VARIABLE) or secrets.token_urlsafe(12)
    accounts.create_user("admin", password, Role.admin, display_name="Administrator")
    return password


DEMO_DATABASE = "demo.sqlite3"


def _check_port(host: str, port: int) -> None:
    """Fail before any set-up, with the fix, when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or "in use"
            raise FbssError(f"port {port} on {host} is not available ({reason}); choose another with --port") from None


def demo_database_url() -> str:
    """The demo's own SQLite file in the data directory, so that demo patients never join real records."""
    return f"sqlite:///{web_data_dir() / DEMO_DATABASE}"


def _database_note(before: str | None, after: str) -> str:
    if before is None:
        return "created"
    return "brought up to date" if before != after else "ready"


def serve(host: str = "127.0.0.1", port: int = 8000, *, demo: bool = False, database: str | None = None) -> None:
    import uvicorn

    from fbss.web.app import create_app

    _check_port(host, port)
    if demo and database is None:
        database = demo_database_url()
    db = Database.open(database)
    before, after = db.upgrade()
    kb = load_knowledge()
    out = sys.stderr
    if demo:
        from fbss.web import demo as demo_data

        demo_data.claim(db)  # refuses a clinic's database before anything is written
        added = demo_data.seed(db, kb)
        accounts = demo_data.ensure_accounts(db, keep_in=web_data_dir())
    else:
        password = _first_admin(db)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    cds = CdsSettings.from_env()
    config = WebConfig.from_environment()
    if config.public_url is None:  # portal links and EHR cards name this address, never the request's Host header
        config = dataclasses.replace(config, public_url=f"http://{shown_host}:{port}")
    if "FBSS_APP_BASE_URL" not in os.environ:  # cards link back to this app
        cds = dataclasses.replace(cds, app_base_url=config.public_url or "")
    if demo and config.crisis_contacts_file is None:
        config = dataclasses.replace(config, crisis_contacts_file=demo_data.CRISIS_CONTACTS)
    app = create_app(db, kb, config, cds=cds)
    print(f"\nFBSS Navigator is running at http://{shown_host}:{port}/", file=out)
    if demo:
        for role, secret in (("clinician", accounts.clinician_password), ("admin", accounts.admin_password)):
            if secret is not None:
                print(f"  {role + ':':<10} user name '{role}', password '{secret}'", file=out)
        for note in accounts.notes:
            print(f"  {note}", file=out)
        patients = f"{added} demo patients added" if added else "the demo patients kept from the last start"
        print(f"  data: {patients}, in {db.url} ({_database_note(before, after)})", file=out)
    else:
        if password:
            print(f"  first account: user name 'admin', password '{password}'", file=out)
            print(f"  change it after signing in: {config.public_url}/account/password", file=out)
            print("  clinician accounts: `fbss user add NAME --role clinician`", file=out)
        print(f"  data: {db.url} ({_database_note(before, after)})", file=out)
    if host in ("127.0.0.1", "localhost", "::1"):
        print(
            "  only this computer can open it; to open it from a phone or another computer on your network, "
            "start it with --host 0.0.0.0",
            file=out,
        )
    else:
        print(f"  open to other devices: use this computer's network address instead of {shown_host}", file=out)
    if cds.auth_required and not cds.issuers:
        print("  EHR connection (CDS Hooks) at /cds-services: no EHR is trusted yet (docs/cds-hooks.md)", file=out)
    else:
        print(f"  EHR connection (CDS Hooks): http://{shown_host}:{port}/cds-services", file=out)
    print("  stop with Ctrl+C\n", file=out, flush=True)
    # the first PDF would otherwise pay for loading WeasyPrint and the fonts (several seconds)
    threading.Thread(target=warm_up, name="pdf-warm-up", daemon=True).start()
    configure_logging()
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", server_header=False)
